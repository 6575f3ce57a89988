//! The attempt journal: one entry per attempt, recorded from the server side.
//!
//! An attempt is one connection, or one request on a kept-alive connection.
//! Connections that die before a full request still count. Times are measured
//! on tokio's clock from the moment the server started, so a test running with
//! paused time sees exact virtual timestamps.
//!
//! The journal keeps every count but stores at most `capacity` attempts (the
//! most recent ones), so a server under sustained load uses bounded memory.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::request::RequestHead;

/// How many attempts a journal stores unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How an attempt's connection ended, and which side ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// The client closed its side cleanly (a FIN reached the server).
    ClientFin,
    /// The client reset the connection (the server saw `ECONNRESET`).
    ClientRst,
    /// The server closed cleanly with a FIN.
    ServerFin,
    /// The server reset the connection with an RST (`SO_LINGER` 0).
    ServerRst,
    /// The server was shut down while the attempt was still open.
    ServerStopped,
    /// The response was complete and the connection stayed open for the next
    /// request, which is a new attempt.
    KeptAlive,
}

impl Ending {
    /// True when the connection ended with a TCP reset, from either side.
    pub fn is_reset(self) -> bool {
        matches!(self, Ending::ClientRst | Ending::ServerRst)
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ending::ClientFin => "client closed (FIN)",
            Ending::ClientRst => "client reset (RST)",
            Ending::ServerFin => "server closed (FIN)",
            Ending::ServerRst => "server reset (RST)",
            Ending::ServerStopped => "server stopped",
            Ending::KeptAlive => "kept alive",
        })
    }
}

/// One attempt as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// Position of this attempt among all attempts on the server, from 0.
    pub index: u64,
    /// The connection that carried it, numbered from 0 in accept order.
    pub connection: u64,
    /// When it started (connection accepted, or request begun on a kept-alive
    /// connection), measured from server start on tokio's clock.
    #[serde(with = "crate::duration::text")]
    pub started: Duration,
    /// The client's address.
    pub peer: SocketAddr,
    /// The request line and headers, when a complete request head was read.
    pub request: Option<RequestHead>,
    /// The route that handled the request, for a `routes` fault: its path
    /// pattern, or `fallback`.
    pub route: Option<String>,
    /// Bytes read from the client during this attempt.
    pub bytes_received: u64,
    /// Bytes written to the client during this attempt.
    pub bytes_sent: u64,
    /// What the fault did, in words.
    pub action: String,
    /// When the attempt ended, measured from server start.
    #[serde(with = "crate::duration::text")]
    pub ended: Option<Duration>,
    /// How it ended; `None` while it is still open.
    pub ending: Option<Ending>,
}

impl Attempt {
    /// True once the attempt has ended.
    pub fn is_finished(&self) -> bool {
        self.ending.is_some()
    }

    /// The request line, such as `GET / HTTP/1.1`, when a request head was read.
    pub fn request_line(&self) -> Option<String> {
        self.request.as_ref().map(RequestHead::request_line)
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = match &self.request {
            Some(head) => format!("\"{}\"", head.request_line()),
            None => "(no request)".to_owned(),
        };
        let route = match &self.route {
            Some(route) => format!(" route {route}"),
            None => String::new(),
        };
        write!(
            f,
            "{:>10.3}s #{} {} {}{} {}: in {} B, out {} B",
            self.started.as_secs_f64(),
            self.index,
            self.peer,
            request,
            route,
            if self.action.is_empty() {
                "-"
            } else {
                &self.action
            },
            self.bytes_received,
            self.bytes_sent,
        )?;
        if let Some(ending) = self.ending {
            write!(f, ", {ending}")?;
        }
        Ok(())
    }
}

/// The journal was not settled within the time given.
#[derive(Debug, thiserror::Error)]
#[error(
    "journal not settled after {waited:?}: wanted {wanted} finished attempts, have {finished} of {total}\n{listing}"
)]
pub struct NotSettled {
    /// How long the caller waited.
    pub waited: Duration,
    /// How many finished attempts the caller wanted.
    pub wanted: u64,
    /// Finished attempts at the deadline.
    pub finished: u64,
    /// All attempts at the deadline.
    pub total: u64,
    /// The stored attempts, one per line.
    pub listing: String,
}

/// A callback the journal calls with each attempt as it ends.
pub(crate) type Observer = Box<dyn Fn(&Attempt) + Send + Sync>;

struct Shared {
    epoch: Instant,
    state: Mutex<State>,
    changed: watch::Sender<()>,
    observer: Option<Observer>,
}

struct State {
    attempts: VecDeque<Attempt>,
    /// How many attempts each route has taken, by route.
    routes: HashMap<String, u64>,
    total: u64,
    connections: u64,
    capacity: usize,
}

/// The record of every attempt a [`FaultServer`](crate::FaultServer) saw.
///
/// Cloning is cheap; clones share the same record.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("attempts", &self.attempts())
            .finish()
    }
}

impl Journal {
    pub(crate) fn new(capacity: usize, observer: Option<Observer>) -> Self {
        let state = State {
            attempts: VecDeque::new(),
            routes: HashMap::new(),
            total: 0,
            connections: 0,
            capacity: capacity.max(1),
        };
        Journal {
            shared: Arc::new(Shared {
                epoch: Instant::now(),
                state: Mutex::new(state),
                changed: watch::Sender::new(()),
                observer,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Time since the server started, on tokio's clock.
    pub fn elapsed(&self) -> Duration {
        self.shared.epoch.elapsed()
    }

    /// The stored attempts, oldest first (at most the journal's capacity).
    pub fn attempts(&self) -> Vec<Attempt> {
        self.state().attempts.iter().cloned().collect()
    }

    /// How many attempts the server has seen, including any no longer stored.
    pub fn count(&self) -> u64 {
        self.state().total
    }

    /// How many connections the server has accepted.
    pub fn connections(&self) -> u64 {
        self.state().connections
    }

    /// Time between the starts of consecutive stored attempts.
    pub fn gaps(&self) -> Vec<Duration> {
        let starts: Vec<Duration> = self.state().attempts.iter().map(|a| a.started).collect();
        starts
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .collect()
    }

    /// Waits until at least `wanted` attempts exist and every stored attempt
    /// has ended, then returns them. Gives up after `within`.
    ///
    /// Call this before asserting on the journal: the client can see its error
    /// a moment before the server has recorded how the connection ended.
    pub async fn settled(&self, wanted: u64, within: Duration) -> Result<Vec<Attempt>, NotSettled> {
        let mut changes = self.shared.changed.subscribe();
        let check = |journal: &Journal| {
            let state = journal.state();
            let done = state.total >= wanted && state.attempts.iter().all(Attempt::is_finished);
            done.then(|| state.attempts.iter().cloned().collect::<Vec<_>>())
        };
        let wait = async {
            loop {
                if let Some(attempts) = check(self) {
                    return attempts;
                }
                // The sender lives as long as the journal, which `self` keeps alive.
                let _ = changes.changed().await;
            }
        };
        match tokio::time::timeout(within, wait).await {
            Ok(attempts) => Ok(attempts),
            Err(_) => {
                let state = self.state();
                Err(NotSettled {
                    waited: within,
                    wanted,
                    finished: state.attempts.iter().filter(|a| a.is_finished()).count() as u64,
                    total: state.total,
                    listing: state.attempts.iter().map(|a| format!("  {a}\n")).collect(),
                })
            }
        }
    }

    pub(crate) fn open_connection(&self) -> u64 {
        let mut state = self.state();
        state.connections += 1;
        state.connections - 1
    }

    /// Starts a new attempt and returns the handle that fills it in.
    pub(crate) fn begin(&self, connection: u64, peer: SocketAddr) -> AttemptLog {
        let started = self.elapsed();
        let index = {
            let mut state = self.state();
            let index = state.total;
            state.total += 1;
            if state.attempts.len() == state.capacity {
                state.attempts.pop_front();
            }
            state.attempts.push_back(Attempt {
                index,
                connection,
                started,
                peer,
                request: None,
                route: None,
                bytes_received: 0,
                bytes_sent: 0,
                action: String::new(),
                ended: None,
                ending: None,
            });
            index
        };
        self.notify();
        AttemptLog {
            journal: self.clone(),
            index,
            preface: None,
        }
    }

    /// Journals that attempt `index` took `route`, and returns how many
    /// attempts took it before: the attempt's position on its route.
    fn route(&self, index: u64, route: &str) -> u64 {
        let position = {
            let mut state = self.state();
            let taken = state.routes.entry(route.to_owned()).or_default();
            *taken += 1;
            *taken - 1
        };
        self.update(index, |a| a.route = Some(route.to_owned()));
        position
    }

    fn update(&self, index: u64, change: impl FnOnce(&mut Attempt)) {
        let finished = {
            let mut state = self.state();
            let Some(front) = state.attempts.front().map(|a| a.index) else {
                return;
            };
            let Some(attempt) = index
                .checked_sub(front)
                .and_then(|pos| state.attempts.get_mut(pos as usize))
            else {
                return;
            };
            change(attempt);
            // A copy only for an observer: cloning every finished attempt
            // costs a healthy server a tenth of its throughput.
            (attempt.is_finished() && self.shared.observer.is_some()).then(|| attempt.clone())
        };
        if let (Some(attempt), Some(observer)) = (finished, &self.shared.observer) {
            observer(&attempt);
        }
        self.notify();
    }

    /// Wakes whoever waits in `settled`. Nobody waits most of the time, and a
    /// waiter subscribes before it first looks, so skipping the wake-up then
    /// loses nothing.
    fn notify(&self) {
        if self.shared.changed.receiver_count() > 0 {
            self.shared.changed.send_replace(());
        }
    }
}

/// Fills in one attempt of the journal as the connection progresses.
#[derive(Clone)]
pub(crate) struct AttemptLog {
    journal: Journal,
    index: u64,
    /// Written before every action: how the connection's TLS handshake went.
    preface: Option<Arc<str>>,
}

impl AttemptLog {
    pub(crate) fn index(&self) -> u64 {
        self.index
    }

    pub(crate) fn request(&self, head: &RequestHead) {
        self.journal
            .update(self.index, |a| a.request = Some(head.clone()));
    }

    /// Records the route this attempt took; returns its position on that
    /// route, counted from 0.
    pub(crate) fn route(&self, route: &str) -> u64 {
        self.journal.route(self.index, route)
    }

    pub(crate) fn action(&self, action: impl Into<String>) {
        let action = match &self.preface {
            Some(preface) => format!("{preface}; {}", action.into()),
            None => action.into(),
        };
        self.journal.update(self.index, |a| a.action = action);
    }

    /// Records how the TLS handshake went, and keeps it before every later action.
    pub(crate) fn handshake(&mut self, outcome: impl Into<String>) {
        let outcome: String = outcome.into();
        self.journal
            .update(self.index, |a| a.action.clone_from(&outcome));
        self.preface = Some(outcome.into());
    }

    pub(crate) fn finish(self, ending: Ending, bytes: (u64, u64)) {
        let ended = self.journal.elapsed();
        self.journal.update(self.index, |a| {
            a.bytes_received = bytes.0;
            a.bytes_sent = bytes.1;
            a.ended = Some(ended);
            a.ending = Some(ending);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 4000))
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_every_count_but_stores_only_its_capacity() {
        let journal = Journal::new(3, None);
        for _ in 0..5 {
            journal.begin(0, peer()).finish(Ending::ClientFin, (1, 2));
        }
        assert_eq!(journal.count(), 5);
        let indexes: Vec<u64> = journal.attempts().iter().map(|a| a.index).collect();
        assert_eq!(indexes, vec![2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn gaps_and_times_follow_tokio_time() {
        let journal = Journal::new(10, None);
        for wait in [0, 1000, 2000] {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            journal.begin(0, peer()).finish(Ending::ServerRst, (0, 0));
        }
        assert_eq!(
            journal.gaps(),
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert_eq!(journal.attempts()[2].started, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn settled_reports_what_it_was_still_waiting_for() {
        let journal = Journal::new(10, None);
        journal.begin(0, peer()).finish(Ending::ServerFin, (5, 0));
        let _open = journal.begin(1, peer());
        let error = journal
            .settled(2, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!((error.wanted, error.finished, error.total), (2, 1, 2));
        assert!(
            error
                .to_string()
                .contains("wanted 2 finished attempts, have 1 of 2"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn each_route_counts_its_own_attempts() {
        let journal = Journal::new(10, None);
        let positions: Vec<u64> = ["/a", "/b", "/a", "/a", "/b"]
            .iter()
            .map(|route| journal.begin(0, peer()).route(route))
            .collect();
        assert_eq!(positions, [0, 0, 1, 2, 1]);
        assert_eq!(journal.attempts()[1].route.as_deref(), Some("/b"));
    }

    #[tokio::test(start_paused = true)]
    async fn observer_sees_each_attempt_once_when_it_ends() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let journal = Journal::new(
            10,
            Some(Box::new(move |a: &Attempt| {
                record.lock().unwrap().push(a.index)
            })),
        );
        let log = journal.begin(0, peer());
        log.action("did something");
        assert!(seen.lock().unwrap().is_empty());
        log.finish(Ending::ClientFin, (0, 0));
        assert_eq!(*seen.lock().unwrap(), vec![0]);
    }
}
