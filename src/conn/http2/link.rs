//! `Link`: what the streams of one HTTP/2 connection share, so that a fault
//! acting on one stream can act on the connection: send a GOAWAY or a broken
//! frame, keep PINGs unanswered, or close it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::frame;
use super::tap::TapControl;
use crate::journal::{Ending, Http2Code};

/// What the streams watch of their connection.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// The last-stream-id of the GOAWAY sent, once one was.
    went_away: Option<u32>,
    /// How the connection ended, once it has.
    ended: Option<Ending>,
}

/// Why a stream stops before its fault is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The connection ended, so did the stream.
    Ended(Ending),
    /// A GOAWAY said the stream will not be processed.
    Abandoned,
}

/// One HTTP/2 connection, as its streams see it.
pub(crate) struct Link {
    tap: Arc<TapControl>,
    /// The last-stream-id of the GOAWAY sent, and the connection's ending.
    state: watch::Sender<State>,
    /// Cancelled to close the connection once the injected frames are out.
    close: CancellationToken,
    /// The streams being answered, by id.
    answering: Mutex<BTreeSet<u32>>,
    answered: Notify,
    /// Streams begun on the connection.
    streams: AtomicU64,
}

impl Link {
    pub(crate) fn new(tap: Arc<TapControl>) -> Self {
        Link {
            tap,
            state: watch::Sender::new(State::default()),
            close: CancellationToken::new(),
            answering: Mutex::default(),
            answered: Notify::new(),
            streams: AtomicU64::new(0),
        }
    }

    fn answering(&self) -> MutexGuard<'_, BTreeSet<u32>> {
        self.answering.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new stream, and says how many came before it.
    pub(crate) fn begin_stream(&self, id: u32) -> u64 {
        self.answering().insert(id);
        self.streams.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts counting what of stream `id` leaves for the client.
    pub(crate) fn watch(&self, id: u32) {
        self.tap.watch(id);
    }

    /// Waits until stream `id`'s headers (when `headers`) and `data` bytes
    /// of its body have left for the client; the stream is watched.
    pub(crate) async fn written(&self, id: u32, headers: bool, data: u64) {
        self.tap.stream_written(id, headers, data).await;
    }

    /// The stream is answered, or will never be; `watched` when its writes
    /// were counted.
    pub(crate) fn end_stream(&self, id: u32, watched: bool) {
        if watched {
            self.tap.forget(id);
        }
        self.answering().remove(&id);
        self.answered.notify_waiters();
    }

    /// Sends a GOAWAY between two frames, and closes the connection once it
    /// is out (`immediate`) or once every stream up to `last_stream_id` is
    /// answered. A later GOAWAY never raises the last-stream-id of an
    /// earlier one (RFC 9113 §6.8).
    pub(crate) fn go_away(&self, last_stream_id: u32, code: Http2Code, immediate: bool) -> u32 {
        let last = self
            .state
            .borrow()
            .went_away
            .map_or(last_stream_id, |l| l.min(last_stream_id));
        self.tap.inject(frame::go_away(last, code));
        self.state.send_modify(|state| state.went_away = Some(last));
        if immediate {
            self.close.cancel();
        }
        self.answered.notify_waiters();
        last
    }

    /// True when the connection closes as soon as its GOAWAY is out, rather
    /// than once the client has had its answers.
    pub(crate) fn closes_at_once(&self) -> bool {
        self.close.is_cancelled()
    }

    /// Sends `frame` between two of the connection's frames.
    pub(crate) fn inject(&self, frame: Bytes) {
        self.tap.inject(frame);
    }

    /// Keeps every later PING unanswered.
    pub(crate) fn silence_pings(&self) {
        self.tap.drop_ping_acks();
    }

    /// Tells every stream that the connection ended, and how.
    pub(crate) fn end(&self, ending: Ending) {
        self.state.send_modify(|state| state.ended = Some(ending));
    }

    /// Waits until stream `id` should stop: the connection ended, or a
    /// GOAWAY said the stream will not be processed.
    pub(crate) async fn stops(&self, id: u32) -> Stop {
        let mut state = self.state.subscribe();
        let stop = |s: &State| match (s.ended, s.went_away) {
            (Some(ending), _) => Some(Stop::Ended(ending)),
            (None, Some(last)) if last < id => Some(Stop::Abandoned),
            _ => None,
        };
        // The sender lives as long as `self`, so this wait ends only by a stop.
        match state.wait_for(|s| stop(s).is_some()).await {
            Ok(s) => stop(&s).unwrap_or(Stop::Abandoned),
            Err(_) => Stop::Abandoned,
        }
    }

    /// Waits until the connection has ended, and says how.
    pub(crate) async fn ended(&self) -> Ending {
        let mut state = self.state.subscribe();
        match state.wait_for(|s| s.ended.is_some()).await {
            Ok(s) => s.ended.unwrap_or(Ending::ServerFin),
            Err(_) => Ending::ServerFin,
        }
    }

    /// Waits until the connection should close: at once after an immediate
    /// GOAWAY, or after a graceful one once the streams it promised are
    /// answered; then until the frames injected so far have left.
    pub(crate) async fn closing(&self) {
        loop {
            let answered = self.answered.notified();
            let closed = self.close.is_cancelled()
                || self
                    .state
                    .borrow()
                    .went_away
                    .is_some_and(|last| self.answering().range(..=last).next().is_none());
            if closed {
                break;
            }
            tokio::select! {
                () = answered => {}
                () = self.close.cancelled() => {}
            }
        }
        self.tap.injected_written().await;
    }
}
