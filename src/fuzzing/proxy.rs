//! The `proxy` target: a fault server in front of a raw upstream, a hostile
//! client on one side and a hostile upstream on the other.
//!
//! The input reads as: one byte choosing the fault, one choosing how the
//! client writes its bytes, one choosing how the upstream answers, one
//! giving how many parameter picks follow, the picks (as in the `server`
//! target, from the same pools), one byte giving how many of the bytes left
//! are the client's material, that material, and the upstream's material.
//! So a four-byte input is a fault with its defaults between an empty
//! client and an empty upstream.

mod client;
mod upstream;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::fault::Fault;
use crate::fuzzing::fault::{Picks, valid_fault};
use crate::fuzzing::runtime;
use crate::journal::Attempt;
use crate::{FaultServer, ServerError, UpstreamConnection};
use client::Client;
use upstream::{Answer, Upstream};

/// How long the client writes and reads before it leaves.
const READ_FOR: Duration = Duration::from_millis(200);

/// How long the connections may take to end on their own once the client
/// has left, before the server is asked to stop.
const LINGER: Duration = Duration::from_millis(50);

/// How long the server may take to stop once asked; how long its journal
/// may take to settle after; and how long `ok` may take to end a connection
/// whose client closed its side, once the upstream closed too.
const BOUND: Duration = Duration::from_secs(2);

/// Any fault in front of any upstream, any client: served without a panic,
/// stopped within a bound, every attempt ended, and every upstream leg
/// consistent with what the client and the upstream sent.
pub fn check(data: &[u8]) {
    let [kind, client, answer, count, rest @ ..] = data else {
        return;
    };
    let (picks, rest) = rest.split_at(usize::from(*count).min(rest.len()));
    let Some(fault) = valid_fault(*kind, &mut Picks(picks.iter())) else {
        return;
    };
    let (split, rest) = rest.split_first().map_or((0, rest), |(s, r)| (*s, r));
    let (from_client, from_upstream) = rest.split_at(usize::from(split).min(rest.len()));
    let client = Client::new(*client, from_client);
    let answer = Answer::new(*answer, from_upstream);
    runtime().block_on(run(fault, client, answer));
}

/// Starts the upstream and the proxy, lets the client in, stops both, and
/// checks the journal.
async fn run(fault: Fault, client: Client, answer: Answer) {
    let name = fault.name();
    // The upstream closes every connection within a bound, so once the
    // client closed its side too, a proxy that only passes bytes on has
    // nothing left to wait for.
    let plain = client.half_closes() && fault == Fault::ok();
    let bad_gateway = answer.bad_gateway();
    // Binding can fail on a busy machine; that is not what this target looks for.
    let Ok(upstream) = Upstream::start(answer).await else {
        return;
    };
    let server = match FaultServer::builder(fault)
        .upstream(upstream.address())
        .bad_gateway(bad_gateway)
        .journal_capacity(16)
        .start()
        .await
    {
        Ok(server) => server,
        Err(ServerError::InvalidFault(invalid)) => {
            panic!("{name} passed validation, then failed to start as a proxy: {invalid}")
        }
        Err(_) => return,
    };
    let bound = if plain { BOUND } else { READ_FOR };
    let exchanged = tokio::time::timeout(bound, client.exchange(server.addr())).await;
    assert!(
        exchanged.is_ok() || !plain,
        "{name}: the connection was still open {BOUND:?} after the client closed its side"
    );
    let journal = server.journal().clone();
    // A connection the client has left usually ends on its own a moment
    // later; one the stop cuts short loses what its attempt would have
    // journaled (the upstream leg among it), so it is given that moment.
    let _ = journal.settled(0, LINGER).await;
    let stopped = tokio::time::timeout(BOUND, server.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "{name}: the server was still stopping {BOUND:?} after it was asked"
    );
    let attempts = match journal.settled(0, BOUND).await {
        Ok(attempts) => attempts,
        Err(unsettled) => panic!("{name}: after the server stopped, {unsettled:?}"),
    };
    let sent = Sent {
        by_client: client.len(),
        by_upstream: upstream.stop().await,
        all_kept: journal.usage().dropped == 0,
    };
    check_attempts(name, &attempts, &sent);
}

/// What each side wrote, at most, and whether the journal kept every attempt.
struct Sent {
    by_client: u64,
    by_upstream: u64,
    all_kept: bool,
}

/// No attempt panicked, and the upstream legs add up: a leg that never
/// reached the upstream carried nothing, no more went to the upstream than
/// the client sent or came from it than it sent, a reused connection was
/// opened before, and a client connection that only ever went through to
/// the upstream had no byte the upstream did not send.
fn check_attempts(name: &str, attempts: &[Attempt], sent: &Sent) {
    let (mut to_upstream, mut from_upstream) = (0, 0);
    // Per client connection: bytes sent to the client, bytes read from the
    // upstream, and whether every attempt on it went through.
    let mut connections: BTreeMap<u64, (u64, u64, bool)> = BTreeMap::new();
    for attempt in attempts {
        assert!(
            !attempt.action.contains("panicked"),
            "{name}: attempt {} panicked: {}",
            attempt.index,
            attempt.action
        );
        let connection = connections
            .entry(attempt.connection)
            .or_insert((0, 0, true));
        connection.0 += attempt.bytes_sent;
        let Some(leg) = &attempt.upstream else {
            connection.2 = false;
            continue;
        };
        if !leg.connection.is_open() {
            connection.2 = false;
            assert_eq!(
                (leg.bytes_sent, leg.bytes_received),
                (0, 0),
                "{name}: an upstream never reached carried bytes: {attempt:?}"
            );
        }
        if leg.connection == UpstreamConnection::Reused && sent.all_kept {
            let opened = attempts.iter().any(|earlier| {
                earlier.connection == attempt.connection
                    && earlier.index < attempt.index
                    && earlier
                        .upstream
                        .as_ref()
                        .is_some_and(|l| l.connection.is_open())
            });
            assert!(
                opened,
                "{name}: reused an upstream never opened: {attempt:?}"
            );
        }
        connection.1 += leg.bytes_received;
        to_upstream += leg.bytes_sent;
        from_upstream += leg.bytes_received;
    }
    assert!(
        to_upstream <= sent.by_client,
        "{name}: {to_upstream} bytes journaled as sent to the upstream, of {} the client sent: {attempts:#?}",
        sent.by_client
    );
    assert!(
        from_upstream <= sent.by_upstream,
        "{name}: {from_upstream} bytes journaled as read from the upstream, of {} it sent: {attempts:#?}",
        sent.by_upstream
    );
    for (id, (to_client, from_upstream, through)) in connections {
        assert!(
            !(sent.all_kept && through) || to_client <= from_upstream,
            "{name}: connection {id} sent the client {to_client} bytes, but read only {from_upstream} from the upstream: {attempts:#?}"
        );
    }
}

/// `material` as one chunk, then the last chunk: a well-formed chunked body.
fn one_chunk(material: &[u8]) -> Vec<u8> {
    match material.len() {
        0 => b"0\r\n\r\n".to_vec(),
        n => [format!("{n:x}\r\n").as_bytes(), material, b"\r\n0\r\n\r\n"].concat(),
    }
}
