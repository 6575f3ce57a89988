//! What a client reports, checked against what the server did.
//!
//! A probe names the class of the error it raised; the journal records what
//! the server sent and how each connection ended. Some pairs cannot both be
//! true, and then the client (or its classifier) is wrong, whatever the
//! scenario expects. The rules:
//!
//! | the client reports | contradicted when the journal shows |
//! |---|---|
//! | a response with status N, or an error carrying status N (`http-status(N)` included) | no attempt whose bytes began with a status line N |
//! | `incomplete-body` | no attempt that sent a status line |
//! | `malformed-response` | no attempt that sent a byte, or was an HTTP/2 stream |
//! | `empty-reply` | attempts, each of which sent bytes that are no response at all: at least 12, not beginning with a status line, and none an HTTP/2 stream |
//! | `reset` | attempts, each of which ended with a FIN, none with an RST |
//!
//! Over HTTP/2 the bytes are frames, never a status line: an attempt that is
//! an HTTP/2 stream had the server's SETTINGS on its connection before it,
//! so it sent bytes, and the status of its HEADERS is its `status_sent`.
//!
//! A rule needs the whole story: when the journal dropped attempts (it keeps
//! a bounded number), or an attempt is still open, the rules that need all of
//! them say nothing. Timeouts, refusals, DNS and TLS failures have no rule:
//! the journal cannot see a client's clock, a closed port, a lookup or a
//! certificate check.

use std::fmt::Write;

use crate::ErrorClass;
use crate::journal::{Attempt, Ending};
use crate::scenario::{Mismatch, Observed, Outcome};

const WHAT: &str = "claim against the journal";

/// The length of `HTTP/1.1 200`, after which a status line is known or ruled out.
const STATUS_LINE_START: u64 = 12;

/// Every claim of the client's that the journal contradicts.
pub fn contradictions(observed: &Observed) -> Vec<Mismatch> {
    let attempts = &observed.attempts;
    let whole = observed.attempt_count == attempts.len() as u64
        && attempts.iter().all(Attempt::is_finished);
    if !whole {
        return Vec::new();
    }
    let (status, class) = match &observed.outcome {
        Outcome::Response { status } => (Some(*status), None),
        Outcome::Error(error) => (error.status, error.class),
        Outcome::Exited | Outcome::Unavailable { .. } | Outcome::Killed { .. } => (None, None),
    };
    let status = status.or(match class {
        Some(ErrorClass::HttpStatus(code)) => Some(code),
        _ => None,
    });
    let mut found: Vec<Mismatch> = status
        .and_then(|code| status_never_sent(attempts, code))
        .into_iter()
        .collect();
    found.extend(class.and_then(|class| class_contradicted(attempts, class)));
    found
}

fn status_never_sent(attempts: &[Attempt], code: u16) -> Option<Mismatch> {
    if attempts.iter().any(|a| a.status_sent == Some(code)) {
        return None;
    }
    Some(Mismatch {
        what: WHAT,
        expected: format!(
            "a status line {code} from the server, as the client reports status {code}"
        ),
        got: format!("none in the journal: {}", sent(attempts)),
    })
}

fn class_contradicted(attempts: &[Attempt], class: ErrorClass) -> Option<Mismatch> {
    let (holds, needs) = match class {
        ErrorClass::IncompleteBody => (
            attempts.iter().any(|a| a.status_sent.is_some()),
            "a status line from the server, since a body can only stop short after one",
        ),
        ErrorClass::MalformedResponse => (
            attempts
                .iter()
                .any(|a| a.bytes_sent > 0 || a.http2.is_some()),
            "bytes from the server, since a response can only be malformed if there is one",
        ),
        ErrorClass::EmptyReply => (
            attempts.is_empty() || !attempts.iter().all(sent_no_response),
            "a connection the server closed before a complete response head",
        ),
        ErrorClass::Reset => (
            attempts.is_empty() || attempts.iter().any(|a| !ended_with_fin(a)),
            "a connection ended with an RST",
        ),
        _ => return None,
    };
    (!holds).then(|| Mismatch {
        what: WHAT,
        expected: format!("{needs}, as the client reports {class}"),
        got: format!("none in the journal: {}", sent(attempts)),
    })
}

/// True when the attempt's bytes cannot be the start of a response: enough
/// of them to hold a status line's start (`HTTP/1.1 200`), and none read.
fn sent_no_response(attempt: &Attempt) -> bool {
    attempt.http2.is_none()
        && attempt.bytes_sent >= STATUS_LINE_START
        && attempt.status_sent.is_none()
}

fn ended_with_fin(attempt: &Attempt) -> bool {
    matches!(
        attempt.ending,
        Some(Ending::ServerFin | Ending::ClientFin | Ending::KeptAlive)
    )
}

/// What the server sent and how each attempt ended, for the message.
fn sent(attempts: &[Attempt]) -> String {
    if attempts.is_empty() {
        return "the server saw no attempt".to_owned();
    }
    let mut text = String::new();
    for (n, attempt) in attempts.iter().enumerate() {
        let separator = if n == 0 { "" } else { "; " };
        let line = attempt
            .status_sent
            .map_or("no status line".to_owned(), |code| {
                format!("status line {code}")
            });
        let ending = attempt
            .ending
            .map_or("still open".to_owned(), |e| e.to_string());
        let _ = write!(
            text,
            "{separator}attempt #{} sent {} bytes ({line}), then {ending}",
            attempt.index, attempt.bytes_sent
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::ClientError;

    fn attempt(index: u64, sent: u64, status: Option<u16>, ending: Ending) -> Attempt {
        Attempt {
            index,
            connection: index,
            started: Duration::ZERO,
            gap: None,
            peer: "127.0.0.1:40000".parse().expect("an address"),
            request: None,
            request_bytes_omitted: 0,
            route: None,
            bytes_received: 79,
            bytes_sent: sent,
            status_sent: status,
            action: "".into(),
            upstream: None,
            http2: None,
            ended: Some(Duration::from_millis(1)),
            ending: Some(ending),
        }
    }

    fn observed(outcome: Outcome, attempts: Vec<Attempt>) -> Observed {
        Observed {
            outcome,
            exit: Some(1),
            output: String::new(),
            took: Duration::ZERO,
            attempt_count: attempts.len() as u64,
            gaps: Vec::new(),
            attempts,
            lookups: Vec::new(),
        }
    }

    fn error(class: &str, status: Option<u16>) -> Outcome {
        Outcome::Error(ClientError {
            native: Some("E".into()),
            is_a: Vec::new(),
            class: Some(class.parse().expect("a class")),
            message: String::new(),
            status,
        })
    }

    fn contradicted(outcome: Outcome, attempts: Vec<Attempt>) -> bool {
        !contradictions(&observed(outcome, attempts)).is_empty()
    }

    const FIN: Ending = Ending::ServerFin;
    const RST: Ending = Ending::ServerRst;

    #[test]
    fn a_status_must_have_been_sent() {
        let answered = || vec![attempt(0, 92, Some(503), Ending::KeptAlive)];
        assert!(!contradicted(Outcome::Response { status: 503 }, answered()));
        assert!(!contradicted(
            error("http-status(503)", Some(503)),
            answered()
        ));
        assert!(contradicted(Outcome::Response { status: 200 }, answered()));
        assert!(contradicted(error("http-status(500)", None), answered()));
        // aiohttp's garbage: a status 400 that no server sent.
        let garbage = vec![attempt(0, 256, None, FIN)];
        assert!(contradicted(
            error("malformed-response", Some(400)),
            garbage
        ));
        assert!(contradicted(Outcome::Response { status: 200 }, Vec::new()));
    }

    #[test]
    fn a_body_can_only_stop_short_after_a_status_line() {
        assert!(!contradicted(
            error("incomplete-body", None),
            vec![attempt(0, 300, Some(200), FIN)]
        ));
        assert!(contradicted(
            error("incomplete-body", None),
            vec![attempt(0, 300, None, FIN)]
        ));
    }

    #[test]
    fn a_malformed_response_needs_bytes() {
        assert!(!contradicted(
            error("malformed-response", None),
            vec![attempt(0, 256, None, FIN)]
        ));
        assert!(contradicted(
            error("malformed-response", None),
            vec![attempt(0, 0, None, FIN)]
        ));
        assert!(contradicted(error("malformed-response", None), Vec::new()));
    }

    #[test]
    fn an_empty_reply_is_no_complete_head_not_garbage() {
        let reported = || error("empty-reply", None);
        assert!(!contradicted(reported(), vec![attempt(0, 0, None, FIN)]));
        // A head cut after 30 bytes is no complete head either.
        assert!(!contradicted(
            reported(),
            vec![attempt(0, 30, Some(200), FIN)]
        ));
        // Too few bytes to tell a status line's start from anything else.
        assert!(!contradicted(reported(), vec![attempt(0, 5, None, FIN)]));
        assert!(contradicted(reported(), vec![attempt(0, 256, None, FIN)]));
        // A client that retried on its own: one of its attempts fits.
        let retried = vec![attempt(0, 256, None, FIN), attempt(1, 0, None, FIN)];
        assert!(!contradicted(reported(), retried));
    }

    #[test]
    fn a_reset_needs_an_rst() {
        assert!(!contradicted(
            error("reset", None),
            vec![attempt(0, 0, None, RST)]
        ));
        assert!(!contradicted(
            error("reset", None),
            vec![attempt(0, 0, None, Ending::ClientRst)]
        ));
        assert!(contradicted(
            error("reset", None),
            vec![attempt(0, 0, None, FIN)]
        ));
        // Nothing accepted: a listener fault may have reset the connection.
        assert!(!contradicted(error("reset", None), Vec::new()));
    }

    #[test]
    fn a_journal_missing_attempts_or_still_open_contradicts_nothing() {
        let mut dropped = observed(error("reset", None), vec![attempt(1, 0, None, FIN)]);
        dropped.attempt_count = 2;
        assert_eq!(contradictions(&dropped), []);
        let mut open = attempt(0, 0, None, FIN);
        open.ending = None;
        assert!(!contradicted(error("reset", None), vec![open]));
    }

    #[test]
    fn timeouts_and_the_rest_have_no_rule() {
        for class in [
            "read-timeout",
            "timeout",
            "connect-timeout",
            "refused",
            "dns",
            "tls(untrusted)",
        ] {
            assert!(
                !contradicted(error(class, None), vec![attempt(0, 0, None, FIN)]),
                "{class}"
            );
        }
    }

    #[test]
    fn an_http2_stream_sent_frames_that_are_no_status_line() {
        let stream = |sent| Attempt {
            http2: Some(Box::new(crate::journal::Http2Stream {
                id: 1,
                frames_sent: Vec::new(),
                reset_by_client: None,
            })),
            ..attempt(0, sent, None, FIN)
        };
        // A broken frame from the server is malformed, though no DATA left.
        assert!(!contradicted(
            error("malformed-response", None),
            vec![stream(0)]
        ));
        assert!(contradicted(
            error("malformed-response", None),
            vec![attempt(0, 0, None, FIN)]
        ));
        // Frames are no HTTP/1 bytes that could not be a response.
        assert!(!contradicted(error("empty-reply", None), vec![stream(16)]));
        assert!(contradicted(
            error("empty-reply", None),
            vec![attempt(0, 16, None, FIN)]
        ));
    }
}
