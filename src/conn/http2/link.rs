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
use crate::journal::Http2Code;

/// One HTTP/2 connection, as its streams see it.
pub(crate) struct Link {
    tap: Arc<TapControl>,
    /// The last-stream-id of the GOAWAY sent, once one was.
    went_away: watch::Sender<Option<u32>>,
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
            went_away: watch::Sender::new(None),
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

    /// Waits until stream `id`'s headers (when `headers`) and `data` bytes
    /// of its body have left for the client.
    pub(crate) async fn written(&self, id: u32, headers: bool, data: u64) {
        self.tap.stream_written(id, headers, data).await;
    }

    /// The stream is answered, or will never be.
    pub(crate) fn end_stream(&self, id: u32) {
        self.tap.forget(id);
        self.answering().remove(&id);
        self.answered.notify_waiters();
    }

    /// Sends a GOAWAY between two frames, and closes the connection once it
    /// is out (`immediate`) or once every stream up to `last_stream_id` is
    /// answered. A later GOAWAY never raises the last-stream-id of an
    /// earlier one (RFC 9113 §6.8).
    pub(crate) fn go_away(&self, last_stream_id: u32, code: Http2Code, immediate: bool) -> u32 {
        let last = self
            .went_away
            .borrow()
            .map_or(last_stream_id, |l| l.min(last_stream_id));
        self.tap.inject(frame::go_away(last, code));
        self.went_away.send_replace(Some(last));
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

    /// Waits until a GOAWAY said stream `id` will not be processed.
    pub(crate) async fn abandons(&self, id: u32) {
        let mut went_away = self.went_away.subscribe();
        // The sender lives as long as `self`, so this wait ends only by the match.
        let _ = went_away
            .wait_for(|last| last.is_some_and(|l| l < id))
            .await;
    }

    /// Waits until the connection should close: at once after an immediate
    /// GOAWAY, or after a graceful one once the streams it promised are
    /// answered; then until the frames injected so far have left.
    pub(crate) async fn closing(&self) {
        loop {
            let answered = self.answered.notified();
            let closed = self.close.is_cancelled()
                || self
                    .went_away
                    .borrow()
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
