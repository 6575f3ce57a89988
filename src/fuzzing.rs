//! What the fuzz targets in `fuzz/` check on every input. Each check panics
//! when an input breaks a promise of the parser or server it feeds. The
//! normal test suite replays every input a target ever failed on, kept in
//! `fixtures/fuzz-regressions/<target>/`. Not part of the API.

mod fault;
mod proxy;
mod server;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::signal::unix::{SignalKind, signal};

use crate::request::{self, HeadError, MAX_HEAD_BYTES};
use crate::runner::{ClientError, Observed, Outcome, probe};
use crate::{ErrorClass, scenario};

/// Scenario files: any text loads as a scenario or as located errors. Every
/// error points inside the text, and a scenario that loads expects something,
/// holds a valid fault, and can be checked against observations.
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz.toml");
    let errors = match scenario::parse(path, &text) {
        Ok(loaded) => {
            assert!(
                !loaded.expect.is_empty(),
                "a scenario expecting nothing loaded"
            );
            assert_eq!(loaded.fault.validate(), Ok(()), "an invalid fault loaded");
            for observed in observations() {
                let _ = loaded.expect.check(&observed);
            }
            return;
        }
        Err(errors) => errors,
    };
    assert!(!errors.0.is_empty(), "rejected without a reason");
    let lines: Vec<&str> = text.split('\n').collect();
    for error in &errors.0 {
        assert!(!error.message.is_empty(), "an error without a message");
        assert_eq!(error.path, path);
        if error.line == 0 {
            assert_eq!(error.column, 0, "a whole-file error with a column: {error}");
            continue;
        }
        let Some(line) = lines.get(error.line - 1) else {
            panic!("line {} past the end of the text: {error}", error.line);
        };
        let width = line.chars().count() + 1;
        assert!(
            (1..=width).contains(&error.column),
            "column {} outside line {} of {} characters: {error}",
            error.column,
            error.line,
            width - 1
        );
    }
    assert!(
        errors.0.is_sorted_by_key(|e| (e.line, e.column)),
        "errors out of file order"
    );
    let _ = errors.to_string();
}

/// What a run could observe: a quick success, and an error after retries.
fn observations() -> [Observed; 2] {
    let secs = Duration::from_secs;
    let success = Observed {
        outcome: Outcome::Response { status: 200 },
        exit: Some(0),
        output: String::new(),
        took: secs(1),
        attempt_count: 3,
        gaps: vec![Duration::ZERO, Duration::from_millis(250)],
        attempts: Vec::new(),
        lookups: Vec::new(),
    };
    let failure = Observed {
        outcome: Outcome::Error(ClientError {
            native: Some("ConnectionResetError".to_owned()),
            is_a: vec!["ConnectionResetError".to_owned(), "OSError".to_owned()],
            class: Some(ErrorClass::Reset),
            message: "connection reset by peer".to_owned(),
            status: None,
        }),
        exit: Some(1),
        output: "Attempt 1 failed".to_owned(),
        took: secs(7),
        attempt_count: 4,
        gaps: vec![secs(1), secs(2), secs(4)],
        attempts: Vec::new(),
        lookups: Vec::new(),
    };
    [success, failure]
}

/// Request heads: any bytes a client sends give a head, a wait for more bytes,
/// or an error. A complete head is within the limit, is not complete a byte
/// earlier, reads the same whatever follows it, and can be journaled.
pub fn request_head(data: &[u8]) {
    match request::parse(data) {
        Ok(Some((head, len))) => {
            assert!(
                0 < len && len <= data.len(),
                "head length {len} of {} bytes",
                data.len()
            );
            assert!(len <= MAX_HEAD_BYTES, "a {len}-byte head passed the limit");
            assert_eq!(
                request::parse(&data[..len]),
                Ok(Some((head.clone(), len))),
                "the head alone reads differently"
            );
            assert_eq!(
                request::parse(&data[..len - 1]),
                Ok(None),
                "complete before its end"
            );
            let _ = head.header("host");
            serde_json::to_string(&head).expect("a head always journals");
        }
        Ok(None) => assert!(
            data.len() <= MAX_HEAD_BYTES,
            "waiting for more past the limit"
        ),
        Err(
            HeadError::TooLarge
            | HeadError::TooManyHeaders
            | HeadError::Http2Preface
            | HeadError::Malformed(_),
        ) => {}
    }
}

/// A fault built from the input, every parameter in range or out of it, served
/// on loopback to a request built from the rest of it: refused with a reason,
/// or served without a panic, stopped within a bound, every attempt ended.
pub fn server(data: &[u8]) {
    server::check(data);
}

/// A proxy for a fault built from the input, in front of a raw upstream
/// that answers with bytes from the input, to a client that sends more of
/// them: served without a panic, stopped within a bound, every attempt
/// ended, and every upstream leg's counts consistent with what went each way.
pub fn proxy(data: &[u8]) {
    proxy::check(data);
}

/// The runtime the targets that serve on loopback share, one per process.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = Runtime::new().expect("a tokio runtime");
        // A Rust `main` ignores SIGPIPE; libFuzzer's `main` does not, and a
        // vectored write (`writev`, which has no MSG_NOSIGNAL) to a peer
        // that has left then kills the whole fuzzer. Once tokio listens for
        // a signal, its handler stays installed for the life of the process,
        // so SIGPIPE is harmless here as it is in any Rust program.
        let _pipe = runtime
            .block_on(async { signal(SignalKind::pipe()) })
            .expect("a SIGPIPE handler");
        runtime
    })
}

/// Probe output: any text a client prints gives an outcome, none, or a
/// malformed probe line quoted with its reason; output after the last probe
/// line that is not a probe line changes nothing.
pub fn probe_output(data: &[u8]) {
    let stdout = String::from_utf8_lossy(data);
    let outcome = probe::parse(&stdout);
    match &outcome {
        Ok(Some(outcome)) => {
            let _ = outcome.to_string();
        }
        Ok(None) => {}
        Err(bad) => assert!(!bad.reason.is_empty(), "a malformed line without a reason"),
    }
    let trailed = format!("{stdout}\nclient done {{\n");
    assert_eq!(
        probe::parse(&trailed),
        outcome,
        "trailing output changed the outcome"
    );
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn every_input_a_fuzz_target_failed_on_passes_its_checks() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
        let mut replayed = 0;
        for target in std::fs::read_dir(&root).unwrap() {
            let target = target.unwrap().path();
            let check: fn(&[u8]) = match target.file_name().unwrap().to_str().unwrap() {
                "scenario" => super::scenario,
                "request_head" => super::request_head,
                "probe_output" => super::probe_output,
                "server" => super::server,
                "proxy" => super::proxy,
                other => panic!("{}: no fuzz target named {other:?}", root.display()),
            };
            for input in std::fs::read_dir(&target).unwrap() {
                let input = input.unwrap().path();
                let data = std::fs::read(&input).unwrap();
                let replay = std::panic::catch_unwind(|| check(&data));
                assert!(replay.is_ok(), "{} fails its check", input.display());
                replayed += 1;
            }
        }
        assert!(replayed > 0, "no input found under {}", root.display());
    }
}
