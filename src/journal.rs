//! The attempt journal: one entry per attempt, recorded from the server side.
//!
//! An attempt is one connection, or one request on a kept-alive connection.
//! Connections that die before a full request still count. Times are measured
//! on tokio's clock from the moment the server started, so a test running with
//! paused time sees exact virtual timestamps.
//!
//! The journal keeps every count but stores only the most recent attempts: at
//! most `capacity` of them, and at most about `max_bytes` of memory for them
//! (an estimate that counts every allocation). Of each request head it keeps a
//! prefix of [`HEAD_PREFIX_BYTES`]. So a server under sustained load, or fed
//! huge heads, uses bounded memory, and [`Journal::usage`] says what was let go.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::request::RequestHead;
pub use http2::{Http2Code, Http2Frame, Http2Stream, UnknownCode};

mod http2;

/// How many attempts a journal stores unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How much memory a journal's stored attempts may take unless told otherwise.
///
/// The estimate counts each attempt's struct, its strings and headers, and an
/// allocator's overhead for each allocation, so it is an upper bound in
/// practice: 10,000 ordinary attempts take about 10 MiB of it, and heads that
/// fill their whole prefix make the journal keep fewer attempts.
pub const DEFAULT_MAX_BYTES: usize = 32 * 1024 * 1024;

/// How much of each request head the journal keeps, counted as on the wire
/// (request line, then `name: value` lines): a longer head is kept up to this
/// point, its last kept header value cut short, and
/// [`Attempt::request_bytes_omitted`] says how much is missing.
pub const HEAD_PREFIX_BYTES: usize = 4 * 1024;

/// How an attempt's connection ended, and which side ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
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
    /// Over HTTP/2: the server ended the stream (END_STREAM) with its
    /// response complete; the connection may carry other streams.
    StreamEnded,
    /// Over HTTP/2: the server reset the stream (RST_STREAM; the code is in
    /// [`Http2Stream::frames_sent`]).
    ServerStreamReset,
    /// Over HTTP/2: the client reset the stream (RST_STREAM; the code is in
    /// [`Http2Stream::reset_by_client`]).
    ClientStreamReset,
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
            Ending::StreamEnded => "stream ended",
            Ending::ServerStreamReset => "server reset the stream",
            Ending::ClientStreamReset => "client reset the stream",
        })
    }
}

/// The upstream leg of an attempt through a proxy: how the proxy reached
/// the real service, and what went each way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct UpstreamLeg {
    /// The upstream's address, as given to the proxy.
    pub address: String,
    /// How the connection to it was had.
    pub connection: UpstreamConnection,
    /// Bytes the proxy wrote to the upstream for this attempt.
    pub bytes_sent: u64,
    /// Bytes the proxy read from the upstream for this attempt.
    pub bytes_received: u64,
}

impl fmt::Display for UpstreamLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream {} ", self.address)?;
        match &self.connection {
            UpstreamConnection::Opened(took) => write!(f, "opened in {took:.1?}")?,
            UpstreamConnection::Reused => f.write_str("reused")?,
            UpstreamConnection::Refused => return f.write_str("refused"),
            UpstreamConnection::TimedOut => return f.write_str("timed out"),
            UpstreamConnection::Failed(error) => return write!(f, "failed: {error}"),
        }
        write!(
            f,
            " (to it {} B, from it {} B)",
            self.bytes_sent, self.bytes_received
        )
    }
}

/// How a proxy had its connection to the upstream for one attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum UpstreamConnection {
    /// A new connection, open after this long; in JSON, in seconds.
    Opened(#[serde(serialize_with = "crate::duration::seconds")] Duration),
    /// The connection of the previous attempt on the same client connection.
    Reused,
    /// Refused: nothing listens there.
    Refused,
    /// No answer to the connect within the proxy's connect timeout.
    TimedOut,
    /// Any other failure, in the operating system's words.
    Failed(String),
}

impl UpstreamConnection {
    /// True when the proxy reached the upstream.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            UpstreamConnection::Opened(_) | UpstreamConnection::Reused
        )
    }
}

/// What a connection carried during one attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Traffic {
    /// Bytes read from the client.
    pub(crate) received: u64,
    /// Bytes written to the client.
    pub(crate) sent: u64,
    /// The status line the bytes written began with.
    pub(crate) status: Option<u16>,
}

/// One attempt as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Attempt {
    /// Position of this attempt among all attempts on the server, from 0.
    pub index: u64,
    /// The connection that carried it, numbered from 0 in accept order.
    pub connection: u64,
    /// When it started (connection accepted, or request begun on a kept-alive
    /// connection), measured from server start on tokio's clock; in JSON, in
    /// seconds.
    #[serde(serialize_with = "crate::duration::seconds")]
    pub started: Duration,
    /// How long after the previous attempt's start this one started (the
    /// gap a retry schedule is measured by); `None` for the first. In JSON,
    /// in seconds.
    #[serde(serialize_with = "crate::duration::seconds")]
    pub gap: Option<Duration>,
    /// The client's address.
    pub peer: SocketAddr,
    /// The request line and headers, when a complete request head was read;
    /// only the first [`HEAD_PREFIX_BYTES`] of a longer head. Shared with
    /// the server that read it, not copied.
    pub request: Option<RequestHead>,
    /// How many bytes of the request head the journal did not keep (0 when it
    /// kept all of it), counted as on the wire.
    pub request_bytes_omitted: u64,
    /// The route that handled the request, for a `routes` fault: its path
    /// pattern, or `fallback`.
    pub route: Option<String>,
    /// Bytes read from the client during this attempt.
    pub bytes_received: u64,
    /// Bytes written to the client during this attempt.
    pub bytes_sent: u64,
    /// The status of the status line (`HTTP/1.1 503 ...`) that the bytes
    /// written began with, read off the wire whatever the fault; `None` when
    /// they began with anything else, or nothing was written.
    pub status_sent: Option<u16>,
    /// What the fault did, in words.
    pub action: Cow<'static, str>,
    /// For a proxy, the upstream leg: `None` when the fault answered in the
    /// upstream's place, so the upstream never saw the request.
    pub upstream: Option<Box<UpstreamLeg>>,
    /// Over HTTP/2, the stream the attempt was; `None` over HTTP/1 and for a
    /// connection that ended before its first stream. Its byte counts are
    /// then the stream's DATA, and its status the `:status` sent.
    pub http2: Option<Box<Http2Stream>>,
    /// When the attempt ended, measured from server start: for one kept
    /// alive, when its response was complete, not when the connection's
    /// next request began. In JSON, in seconds.
    #[serde(serialize_with = "crate::duration::seconds")]
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
    pub fn request_line(&self) -> Option<&str> {
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
        if let Some(leg) = &self.upstream {
            write!(f, ", {leg}")?;
        }
        if let Some(stream) = &self.http2 {
            write!(f, ", {stream}")?;
        }
        if let Some(ending) = self.ending {
            write!(f, ", {ending}")?;
        }
        Ok(())
    }
}

/// The journal was not settled within the time given. Its `Debug` is its
/// message, so `?` and `.unwrap()` print the attempts readably.
#[derive(thiserror::Error)]
#[error(
    "journal not settled after {waited:?}: waited for {wanted} finished {}, and {finished} of the {total} seen had finished\n{listing}",
    if *wanted == 1 { "attempt" } else { "attempts" }
)]
#[non_exhaustive]
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

impl fmt::Debug for NotSettled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
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
    attempts: VecDeque<Entry>,
    total: u64,
    connections: u64,
    capacity: usize,
    /// The estimated memory of the stored attempts, and its bound.
    bytes: usize,
    max_bytes: usize,
    /// Request heads journaled in part.
    truncated: u64,
    /// When the latest attempt started.
    last_started: Option<Duration>,
    /// Stored attempts that have not ended.
    open: usize,
}

/// A stored attempt and what it costs.
struct Entry {
    attempt: Attempt,
    /// The estimated memory of its request head, computed once when it is set.
    head_bytes: usize,
    /// The estimated memory of the whole entry, as last counted in `State::bytes`.
    footprint: usize,
    /// When its response was complete, for an attempt answered on a
    /// connection that stays open.
    answered: Option<Duration>,
}

impl Entry {
    fn new(attempt: Attempt) -> Entry {
        Entry {
            attempt,
            head_bytes: 0,
            footprint: 0,
            answered: None,
        }
    }

    /// Stores the kept part of the request head.
    fn keep(&mut self, kept: Kept) {
        self.attempt.request = Some(kept.head);
        self.attempt.request_bytes_omitted = kept.omitted;
        self.head_bytes = kept.bytes;
    }

    /// Ends the attempt `ending` at `now`, with the traffic it carried; for
    /// one kept alive, it ended when it was answered. A server stop makes
    /// the action say what was cut short, after the connection's `preface`.
    fn finish(&mut self, ending: Ending, traffic: Traffic, now: Duration, preface: Option<&str>) {
        let a = &mut self.attempt;
        if ending == Ending::ServerStopped {
            a.action = cut_short(a, preface, traffic.sent).into();
        }
        a.bytes_received = traffic.received;
        a.bytes_sent = traffic.sent;
        a.status_sent = traffic.status;
        a.ended = Some(match (ending, self.answered) {
            (Ending::KeptAlive, Some(answered)) => answered,
            _ => now,
        });
        a.ending = Some(ending);
    }

    /// The estimated memory of the entry: recounted after each change, cheaply,
    /// because the head's share is kept aside.
    fn recount(&self) -> usize {
        let a = &self.attempt;
        std::mem::size_of::<Entry>()
            + match &a.action {
                Cow::Borrowed(_) => 0,
                Cow::Owned(action) => action.capacity() + ALLOCATION,
            }
            + a.route.as_ref().map_or(0, |r| r.capacity() + ALLOCATION)
            + a.upstream.as_ref().map_or(0, |u| {
                std::mem::size_of::<UpstreamLeg>() + u.address.capacity() + 2 * ALLOCATION
            })
            + a.http2.as_ref().map_or(0, |s| {
                std::mem::size_of::<Http2Stream>()
                    + s.frames_sent.capacity() * std::mem::size_of::<Http2Frame>()
                    + 2 * ALLOCATION
            })
            + self.head_bytes
    }
}

/// The action of an attempt before its fault has said what it does.
const NO_ACTION: Cow<'static, str> = Cow::Borrowed("");

/// What an allocator spends on each allocation beyond its bytes, for the
/// journal's estimate of its own size.
const ALLOCATION: usize = 16;

/// What a journal stores and what it let go, from [`Journal::usage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Usage {
    /// Attempts stored now.
    pub stored: usize,
    /// Attempts seen but no longer stored, to keep within the count or the
    /// memory bound (the oldest go first).
    pub dropped: u64,
    /// Request heads longer than [`HEAD_PREFIX_BYTES`], journaled in part.
    pub truncated: u64,
    /// The estimated memory of the stored attempts, in bytes.
    pub bytes: usize,
    /// The bound on that estimate, in bytes.
    pub max_bytes: usize,
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
    pub(crate) fn new(capacity: usize, max_bytes: usize, observer: Option<Observer>) -> Self {
        let state = State {
            attempts: VecDeque::new(),
            total: 0,
            connections: 0,
            capacity: capacity.max(1),
            bytes: 0,
            max_bytes,
            truncated: 0,
            last_started: None,
            open: 0,
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
        self.state().stored()
    }

    /// How many attempts are stored, how many were let go, how many request
    /// heads were kept in part, and the memory the stored attempts take.
    pub fn usage(&self) -> Usage {
        let state = self.state();
        Usage {
            stored: state.attempts.len(),
            dropped: state.total - state.attempts.len() as u64,
            truncated: state.truncated,
            bytes: state.bytes,
            max_bytes: state.max_bytes,
        }
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
        let starts: Vec<Duration> = self
            .state()
            .attempts
            .iter()
            .map(|e| e.attempt.started)
            .collect();
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
            let done = state.total >= wanted && state.unfinished() == 0;
            done.then(|| state.stored())
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
                    finished: (state.attempts.len() - state.unfinished()) as u64,
                    total: state.total,
                    listing: state
                        .attempts
                        .iter()
                        .map(|e| format!("  {}\n", e.attempt))
                        .collect(),
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
        let (index, evicted) = self
            .state()
            .push(connection, peer, started, None, None, NO_ACTION);
        // The head of the attempt let go to make room is freed after the
        // lock is released.
        drop(evicted);
        self.notify();
        self.log(index)
    }

    /// Starts the attempt of the request `head`, the next on a kept-alive
    /// connection, with its `action` when already known, after ending
    /// `previous` as it went: one locked update where `begin`, `request`,
    /// `action` and `finish` would take four.
    pub(crate) fn next_request(
        &self,
        previous: &AttemptLog,
        went: Previous,
        connection: u64,
        peer: SocketAddr,
        (head, action): (&RequestHead, Option<Cow<'static, str>>),
    ) -> AttemptLog {
        let started = self.elapsed();
        let kept = Kept::of(head);
        let action = action.unwrap_or(NO_ACTION);
        let copy = self.shared.observer.is_some();
        let (index, evicted, ended) = {
            let mut state = self.state();
            let (_, ended) = state.update(previous.index, copy, |e| {
                e.answered = went.answered.or(e.answered);
                e.finish(Ending::KeptAlive, went.traffic, started, None);
            });
            let (index, evicted) = state.push(connection, peer, started, Some(kept), None, action);
            (index, evicted, ended)
        };
        drop(evicted);
        self.observe(ended);
        self.notify();
        self.log(index)
    }

    /// Starts the attempt of HTTP/2 stream `id`, asking for `head`, on
    /// `connection`: one locked update where `begin` and `stream_request`
    /// would take two.
    pub(crate) fn begin_stream(
        &self,
        connection: u64,
        peer: SocketAddr,
        id: u32,
        head: &RequestHead,
    ) -> AttemptLog {
        let started = self.elapsed();
        let kept = Kept::of(head);
        let stream = Http2Stream::new(id);
        let (index, evicted) = self.state().push(
            connection,
            peer,
            started,
            Some(kept),
            Some(stream),
            NO_ACTION,
        );
        drop(evicted);
        self.notify();
        self.log(index)
    }

    fn log(&self, index: u64) -> AttemptLog {
        AttemptLog {
            journal: self.clone(),
            index,
            preface: None,
        }
    }

    /// Journals that attempt `index` took `route`.
    fn took_route(&self, index: u64, route: &str) {
        self.update(index, |e| e.attempt.route = Some(route.to_owned()));
    }

    /// Ends every open attempt of `connection` with `what` added to its
    /// action, for a connection whose task died without ending them. Their
    /// byte counts died with the task and stay as they were.
    pub(crate) fn abandon(&self, connection: u64, what: &str) {
        let ended = self.elapsed();
        let open: Vec<u64> = self
            .state()
            .attempts
            .iter()
            .rev()
            .filter(|e| e.attempt.connection == connection && !e.attempt.is_finished())
            .map(|e| e.attempt.index)
            .collect();
        for index in open {
            self.update(index, |e| {
                let a = &mut e.attempt;
                a.action = match a.action.is_empty() {
                    true => what.to_owned().into(),
                    false => format!("{}; then {what}", a.action).into(),
                };
                a.ended = Some(ended);
                a.ending = Some(Ending::ServerFin);
            });
        }
    }

    /// Journals the stored prefix of a request head for attempt `index`.
    fn request(&self, index: u64, head: &RequestHead, stream: Option<Http2Stream>) {
        // Copied, when it must be cut, before taking the lock, which other
        // connections wait for.
        let kept = Kept::of(head);
        self.update(index, move |entry| {
            entry.keep(kept);
            if let Some(stream) = stream {
                entry.attempt.http2 = Some(Box::new(stream));
            }
        });
    }

    fn update(&self, index: u64, change: impl FnOnce(&mut Entry)) {
        let copy = self.shared.observer.is_some();
        let (ended, copied) = self.state().update(index, copy, change);
        self.observe(copied);
        // `settled` waits for attempts to begin and end, not for the rest.
        if ended {
            self.notify();
        }
    }

    /// Calls the observer, if any, with an attempt that has just ended: a
    /// copy taken under the lock (its head shared), seen outside it.
    fn observe(&self, ended: Option<Box<Attempt>>) {
        if let (Some(attempt), Some(observer)) = (ended, &self.shared.observer) {
            observer(&attempt);
        }
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

impl State {
    /// Stores a new attempt; returns its index and the attempt let go to make
    /// room, for the caller to free outside the lock.
    fn push(
        &mut self,
        connection: u64,
        peer: SocketAddr,
        started: Duration,
        head: Option<Kept>,
        stream: Option<Http2Stream>,
        action: Cow<'static, str>,
    ) -> (u64, Option<RequestHead>) {
        let index = self.total;
        self.total += 1;
        let gap = self.last_started.map(|last| started.saturating_sub(last));
        self.last_started = Some(started);
        let evicted = match self.attempts.len() == self.capacity {
            true => self.pop_oldest(),
            false => None,
        };
        let mut entry = Entry::new(Attempt {
            index,
            connection,
            started,
            gap,
            peer,
            request: None,
            request_bytes_omitted: 0,
            route: None,
            bytes_received: 0,
            bytes_sent: 0,
            status_sent: None,
            action,
            upstream: None,
            http2: stream.map(Box::new),
            ended: None,
            ending: None,
        });
        if let Some(head) = head {
            self.truncated += u64::from(head.omitted > 0);
            entry.keep(head);
        }
        entry.footprint = entry.recount();
        self.bytes += entry.footprint;
        self.make_room();
        self.attempts.push_back(entry);
        self.open += 1;
        self.shrink();
        (index, evicted)
    }

    /// Applies `change` to attempt `index`, if still stored, and recounts
    /// its memory; says whether the change ended the attempt, and then, when
    /// `copy` is set, gives a copy of it for an observer: copies cost a
    /// healthy server a tenth of its throughput, so none is made for nobody.
    fn update(
        &mut self,
        index: u64,
        copy: bool,
        change: impl FnOnce(&mut Entry),
    ) -> (bool, Option<Box<Attempt>>) {
        let Some(entry) = self.get_mut(index) else {
            return (false, None);
        };
        let was_finished = entry.attempt.is_finished();
        let truncated_before = entry.attempt.request_bytes_omitted > 0;
        change(entry);
        let truncated = !truncated_before && entry.attempt.request_bytes_omitted > 0;
        let ended = !was_finished && entry.attempt.is_finished();
        let copied = (copy && ended).then(|| Box::new(entry.attempt.clone()));
        let (was, now) = (entry.footprint, entry.recount());
        entry.footprint = now;
        self.truncated += u64::from(truncated);
        self.open -= usize::from(ended);
        self.bytes = self.bytes - was + now;
        self.shrink();
        (ended, copied)
    }

    fn get_mut(&mut self, index: u64) -> Option<&mut Entry> {
        let front = self.attempts.front()?.attempt.index;
        let position = usize::try_from(index.checked_sub(front)?).ok()?;
        self.attempts.get_mut(position)
    }

    /// Grows the store when it is full, doubling but never past `capacity`:
    /// a ring that went past it would cycle through slots it never needs,
    /// and keep their pages resident.
    fn make_room(&mut self) {
        let len = self.attempts.len();
        if len == self.attempts.capacity() {
            let wanted = (len * 2).max(8).min(self.capacity.max(len + 1));
            self.attempts.reserve_exact(wanted - len);
        }
    }

    fn stored(&self) -> Vec<Attempt> {
        self.attempts.iter().map(|e| e.attempt.clone()).collect()
    }

    fn unfinished(&self) -> usize {
        self.open
    }

    /// Lets the oldest attempt go; returns its head, the part worth freeing
    /// outside the lock (the rest is small, and mostly empty).
    fn pop_oldest(&mut self) -> Option<RequestHead> {
        let mut entry = self.attempts.pop_front()?;
        self.bytes -= entry.footprint;
        self.open -= usize::from(!entry.attempt.is_finished());
        entry.attempt.request.take()
    }

    /// Lets the oldest attempts go until the rest fit in `max_bytes`; the
    /// newest always stays, as a prefix of its head fits in any bound.
    fn shrink(&mut self) {
        while self.bytes > self.max_bytes && self.attempts.len() > 1 {
            self.pop_oldest();
        }
    }
}

/// The part of a request head the journal keeps.
struct Kept {
    head: RequestHead,
    /// Bytes of the head left out, counted as on the wire.
    omitted: u64,
    /// The estimated memory of `head`.
    bytes: usize,
}

impl Kept {
    /// `head` itself, shared, when it fits in [`HEAD_PREFIX_BYTES`], as
    /// nearly every head does; otherwise a copy of its first bytes.
    fn of(head: &RequestHead) -> Kept {
        if head.wire_len() > HEAD_PREFIX_BYTES {
            return Kept::prefix(head);
        }
        Kept {
            head: head.clone(),
            omitted: 0,
            bytes: head.footprint() + ALLOCATION,
        }
    }

    /// The first [`HEAD_PREFIX_BYTES`] of `head`, as on the wire: the
    /// request line, then each header whose name fits, its value cut short
    /// where the room ends.
    fn prefix(head: &RequestHead) -> Kept {
        let mut room = Room {
            left: HEAD_PREFIX_BYTES,
            omitted: 0,
        };
        // The request line: "METHOD TARGET VERSION\r\n".
        let method = room.take(head.method(), 1);
        let target = room.take(head.target(), 1);
        let version = room.take(head.version(), 2);
        let mut headers = Vec::new();
        for (name, value) in head.headers() {
            // Each header is "name: value\r\n"; keep its name whole or not at all.
            if room.left < name.len() + 4 {
                room.omitted += name.len() + value.len() + 4;
                continue;
            }
            headers.push((room.take(name, 2), room.take(value, 2)));
        }
        let head = RequestHead::from_parts(method, target, version, headers);
        Kept {
            bytes: head.footprint() + ALLOCATION,
            head,
            omitted: room.omitted as u64,
        }
    }
}

/// What is left of the head prefix while it is copied.
struct Room {
    /// Bytes that may still be kept.
    left: usize,
    /// Bytes left out so far.
    omitted: usize,
}

impl Room {
    /// A copy of as much of `text` as fits, then `separator` bytes on the wire
    /// (a space, `: ` or a line end), which are counted but not stored.
    fn take<'a>(&mut self, text: &'a str, separator: usize) -> &'a str {
        let kept = cut(text, self.left.saturating_sub(separator));
        self.omitted += text.len() - kept.len();
        self.left = self.left.saturating_sub(kept.len() + separator);
        kept
    }
}

/// The longest start of `text` that is at most `max` bytes and ends on a
/// character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// How the previous attempt on a kept-alive connection went, for
/// [`Journal::next_request`] to end it.
pub(crate) struct Previous {
    /// When its response was complete, from the server's start, if known.
    pub(crate) answered: Option<Duration>,
    /// The traffic it carried.
    pub(crate) traffic: Traffic,
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
        self.journal.request(self.index, head, None);
    }

    /// Records that the attempt is HTTP/2 stream `id`, asking for `head`.
    pub(crate) fn stream_request(&self, id: u32, head: &RequestHead) {
        let stream = Http2Stream::new(id);
        self.journal.request(self.index, head, Some(stream));
    }

    /// Records the route this attempt took.
    pub(crate) fn took_route(&self, route: &str) {
        self.journal.took_route(self.index, route);
    }

    /// Records the attempt's upstream leg, for a proxy.
    pub(crate) fn upstream(&self, leg: UpstreamLeg) {
        self.journal
            .update(self.index, |e| e.attempt.upstream = Some(Box::new(leg)));
    }

    /// Records a frame sent on the attempt's stream or its connection.
    pub(crate) fn sent_frame(&self, frame: Http2Frame) {
        self.journal.update(self.index, |e| {
            if let Some(stream) = &mut e.attempt.http2 {
                stream.frames_sent.push(frame);
            }
        });
    }

    /// Records that the client reset the attempt's stream with `code`.
    pub(crate) fn client_reset(&self, code: Http2Code) {
        self.journal.update(self.index, |e| {
            if let Some(stream) = &mut e.attempt.http2 {
                stream.reset_by_client = Some(code);
            }
        });
    }

    /// Records that the response is complete: on a connection kept alive for
    /// the next request, the attempt ends here, not when the next one begins.
    pub(crate) fn answered(&self) {
        let now = self.journal.elapsed();
        self.journal.update(self.index, |e| e.answered = Some(now));
    }

    pub(crate) fn action(&self, action: impl Into<Cow<'static, str>>) {
        let action = match &self.preface {
            Some(preface) => format!("{preface}; {}", action.into()).into(),
            None => action.into(),
        };
        self.journal
            .update(self.index, |e| e.attempt.action = action);
    }

    /// Adds `more` to what the attempt did, after `then` when it did something
    /// already.
    pub(crate) fn also(&self, more: String) {
        self.journal.update(self.index, |e| {
            let action = &mut e.attempt.action;
            *action = match action.is_empty() {
                true => more.into(),
                false => format!("{action}; then {more}").into(),
            };
        });
    }

    /// Records how the TLS handshake went, and keeps it before every later action.
    pub(crate) fn handshake(&mut self, outcome: impl Into<String>) {
        let outcome: String = outcome.into();
        self.journal
            .update(self.index, |e| e.attempt.action = outcome.clone().into());
        self.preface = Some(outcome.into());
    }

    /// Records `what` happened first, and keeps it before every later
    /// action, after how the TLS handshake went.
    pub(crate) fn preface(&mut self, what: &str) {
        let preface = match &self.preface {
            Some(preface) => format!("{preface}; {what}"),
            None => what.to_owned(),
        };
        self.handshake(preface);
    }

    pub(crate) fn finish(self, ending: Ending, traffic: Traffic) {
        let now = self.journal.elapsed();
        let preface = self.preface.as_deref();
        self.journal
            .update(self.index, |e| e.finish(ending, traffic, now, preface));
    }
}

/// The action of an attempt the server's stop cut short: the fault's words
/// say what it set out to do, which it did not finish.
fn cut_short(attempt: &Attempt, preface: Option<&str>, sent: u64) -> String {
    let (before, planned) = match preface {
        Some(preface) => match attempt.action.strip_prefix(preface) {
            Some(rest) => (
                format!("{preface}; "),
                rest.trim_start_matches("; ").to_owned(),
            ),
            None => (String::new(), attempt.action.to_string()),
        },
        None => (String::new(), attempt.action.to_string()),
    };
    let what = if planned.starts_with("server stopped") {
        planned
    } else if !planned.is_empty() {
        format!("cut short by server stop after {sent} bytes sent; planned: {planned}")
    } else if attempt.request.is_some() {
        format!("server stopped after {sent} bytes sent, before the fault acted")
    } else {
        "server stopped before a full request arrived".to_owned()
    };
    format!("{before}{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(received: u64, sent: u64) -> Traffic {
        Traffic {
            received,
            sent,
            status: None,
        }
    }

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 4000))
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_every_count_but_stores_only_its_capacity() {
        let journal = Journal::new(3, DEFAULT_MAX_BYTES, None);
        for _ in 0..5 {
            journal
                .begin(0, peer())
                .finish(Ending::ClientFin, traffic(1, 2));
        }
        assert_eq!(journal.count(), 5);
        let indexes: Vec<u64> = journal.attempts().iter().map(|a| a.index).collect();
        assert_eq!(indexes, vec![2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_store_grows_to_its_capacity_and_no_further() {
        for capacity in [1, 3, 10, 1000] {
            let journal = Journal::new(capacity, DEFAULT_MAX_BYTES, None);
            for _ in 0..2 * capacity + 5 {
                journal
                    .begin(0, peer())
                    .finish(Ending::ClientFin, traffic(1, 2));
            }
            assert_eq!(journal.state().attempts.capacity(), capacity);
            assert_eq!(journal.attempts().len(), capacity);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gaps_and_times_follow_tokio_time() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES, None);
        for wait in [0, 1000, 2000] {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            journal
                .begin(0, peer())
                .finish(Ending::ServerRst, traffic(0, 0));
        }
        assert_eq!(
            journal.gaps(),
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert_eq!(journal.attempts()[2].started, Duration::from_secs(3));
        let each: Vec<_> = journal.attempts().iter().map(|a| a.gap).collect();
        assert_eq!(
            each,
            [
                None,
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn settled_reports_what_it_was_still_waiting_for() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES, None);
        journal
            .begin(0, peer())
            .finish(Ending::ServerFin, traffic(5, 0));
        let _open = journal.begin(1, peer());
        let error = journal
            .settled(2, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!((error.wanted, error.finished, error.total), (2, 1, 2));
        assert!(
            error
                .to_string()
                .contains("waited for 2 finished attempts, and 1 of the 2 seen had finished"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn observer_sees_each_attempt_once_when_it_ends() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let journal = Journal::new(
            10,
            DEFAULT_MAX_BYTES,
            Some(Box::new(move |a: &Attempt| {
                record.lock().unwrap().push(a.index)
            })),
        );
        let log = journal.begin(0, peer());
        log.action("did something");
        assert!(seen.lock().unwrap().is_empty());
        log.finish(Ending::ClientFin, traffic(0, 0));
        assert_eq!(*seen.lock().unwrap(), vec![0]);
    }

    fn head(headers: usize, value_len: usize) -> RequestHead {
        head_of(&[(headers, value_len)])
    }

    /// A head with, for each `(count, value_len)`, `count` headers of values
    /// `value_len` long.
    fn head_of(groups: &[(usize, usize)]) -> RequestHead {
        let headers: Vec<(String, String)> = groups
            .iter()
            .flat_map(|&(count, value_len)| {
                (0..count).map(move |i| (format!("x-{i}"), "v".repeat(value_len)))
            })
            .collect();
        let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        RequestHead::from_parts("GET", "/", "HTTP/1.1", pairs)
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_a_small_head_whole() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES, None);
        journal.begin(0, peer()).request(&head(20, 30));
        let attempt = &journal.attempts()[0];
        assert_eq!(attempt.request, Some(head(20, 30)));
        assert_eq!(attempt.request_bytes_omitted, 0);
        assert_eq!(journal.usage().truncated, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_only_a_prefix_of_a_huge_head_and_says_how_much_is_missing() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES, None);
        // One 100 KB header, then ten small ones.
        let huge = head_of(&[(1, 100_000), (10, 10)]);
        journal.begin(0, peer()).request(&huge);
        let attempt = &journal.attempts()[0];
        let kept = attempt.request.as_ref().unwrap();
        assert_eq!(kept.request_line(), "GET / HTTP/1.1");
        assert_eq!(kept.headers().count(), 1);
        let on_wire = |h: &RequestHead| {
            h.request_line().len()
                + 2
                + h.headers()
                    .map(|(n, v)| n.len() + v.len() + 4)
                    .sum::<usize>()
        };
        assert!(on_wire(kept) <= HEAD_PREFIX_BYTES, "{}", on_wire(kept));
        assert!(on_wire(kept) > HEAD_PREFIX_BYTES - 10, "{}", on_wire(kept));
        assert_eq!(
            attempt.request_bytes_omitted as usize,
            on_wire(&huge) - on_wire(kept)
        );
        assert_eq!(journal.usage().truncated, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn lets_the_oldest_attempts_go_to_stay_within_its_bytes() {
        let max_bytes = 256 * 1024;
        let journal = Journal::new(10_000, max_bytes, None);
        for _ in 0..1000 {
            let log = journal.begin(0, peer());
            log.request(&head(100, 1000));
            log.action("answered 200");
            log.finish(Ending::ClientFin, traffic(1, 2));
        }
        let usage = journal.usage();
        assert!(usage.bytes <= max_bytes, "{usage:?}");
        assert!(usage.stored > 10 && usage.stored < 100, "{usage:?}");
        assert_eq!(usage.dropped, 1000 - usage.stored as u64);
        assert_eq!(usage.truncated, 1000);
        assert_eq!(journal.attempts().last().unwrap().index, 999);
        assert_eq!(journal.count(), 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn counts_its_bytes_back_to_the_struct_sizes_once_emptied() {
        let journal = Journal::new(2, DEFAULT_MAX_BYTES, None);
        let small = journal.usage().bytes;
        journal.begin(0, peer()).request(&head(50, 50));
        journal.begin(0, peer());
        journal.begin(0, peer());
        let usage = journal.usage();
        assert_eq!(usage.stored, 2);
        assert_eq!(small, 0);
        assert_eq!(usage.bytes, 2 * std::mem::size_of::<Entry>());
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_cut_short_by_server_stop_says_so_and_what_was_planned() {
        let journal = Journal::new(10, DEFAULT_MAX_BYTES, None);
        let dripping = journal.begin(0, peer());
        dripping.request(&head(1, 1));
        dripping.action("dripped 10 bytes, one every 500ms");
        dripping.finish(Ending::ServerStopped, traffic(40, 93));
        let mut tls = journal.begin(1, peer());
        tls.handshake("TLS handshake done (TLSv1_3)");
        tls.action("sent a close-delimited body, closed 1h later");
        tls.finish(Ending::ServerStopped, traffic(40, 50));
        journal
            .begin(2, peer())
            .finish(Ending::ServerStopped, traffic(3, 0));
        let actions: Vec<String> = journal
            .attempts()
            .into_iter()
            .map(|a| a.action.into_owned())
            .collect();
        assert_eq!(
            actions,
            [
                "cut short by server stop after 93 bytes sent; planned: dripped 10 bytes, one every 500ms",
                "TLS handshake done (TLSv1_3); cut short by server stop after 50 bytes sent; planned: sent a close-delimited body, closed 1h later",
                "server stopped before a full request arrived",
            ]
        );
    }
}
