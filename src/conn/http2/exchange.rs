//! `StreamExchange`: what an HTTP/2 fault acts on for one attempt, which is
//! one stream.

use std::future::poll_fn;
use std::sync::Arc;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};

use super::link::Link;
use crate::conn::client_error_ending;
use crate::journal::{AttemptLog, Ending, Http2Code, Http2Frame, Traffic};
use crate::request::RequestHead;

/// One stream: the request, the means to answer it, and its journal entry.
pub(crate) struct StreamExchange {
    pub(crate) head: RequestHead,
    /// The stream's id on its connection.
    pub(crate) id: u32,
    /// How many streams came before it on its connection.
    pub(crate) position: u64,
    pub(crate) link: Arc<Link>,
    log: AttemptLog,
    body: RecvStream,
    respond: SendResponse<Bytes>,
    sending: Option<SendStream<Bytes>>,
    /// True once the response has ended (END_STREAM sent).
    ended: bool,
    /// True when what of the stream leaves for the client is counted.
    watched: bool,
    traffic: Traffic,
}

impl StreamExchange {
    pub(crate) fn new(
        request: http::Request<RecvStream>,
        respond: SendResponse<Bytes>,
        head: RequestHead,
        link: Arc<Link>,
        log: AttemptLog,
    ) -> Self {
        let id = u32::from(respond.stream_id());
        let position = link.begin_stream(id);
        StreamExchange {
            head,
            id,
            position,
            link,
            log,
            body: request.into_body(),
            respond,
            sending: None,
            ended: false,
            watched: false,
            traffic: Traffic::default(),
        }
    }

    pub(crate) fn log(&self) -> &AttemptLog {
        &self.log
    }

    /// Records what the fault did, in words.
    pub(crate) fn did(&self, action: impl Into<std::borrow::Cow<'static, str>>) {
        self.log.action(action);
    }

    /// Journals a frame sent on the stream or its connection.
    pub(crate) fn sent_frame(&self, frame: Http2Frame) {
        self.log.sent_frame(frame);
    }

    /// Resets the stream with `code`.
    pub(crate) fn reset(&mut self, code: Http2Code) -> Ending {
        let reason = h2::Reason::from(code.0);
        match &mut self.sending {
            Some(sending) => sending.send_reset(reason),
            None => self.respond.send_reset(reason),
        }
        self.sent_frame(Http2Frame::RstStream { code });
        Ending::ServerStreamReset
    }

    /// Counts what of the stream leaves for the client, from now on, so
    /// that [`flushed`](Self::flushed) can wait for it.
    pub(crate) fn watch_writes(&mut self) {
        self.link.watch(self.id);
        self.watched = true;
    }

    /// Waits until what was sent on the stream has left for the client:
    /// h2 drops what it still holds of a stream it resets. The stream must
    /// be watched from before its first frame.
    pub(crate) async fn flushed(&self) {
        debug_assert!(self.watched, "flushed() on a stream not watched");
        let headers = self.traffic.status.is_some();
        self.link.written(self.id, headers, self.traffic.sent).await;
    }

    /// Sends the response head; with `end`, the response ends with it.
    pub(crate) fn send_head(&mut self, head: http::Response<()>, end: bool) -> Result<(), Ending> {
        let status = head.status().as_u16();
        let sending = self
            .respond
            .send_response(head, end)
            .map_err(|e| self.lost(&e))?;
        self.traffic.status = Some(status);
        self.sending = Some(sending);
        self.ended = end;
        Ok(())
    }

    /// Sends body bytes as the client's flow-control window allows; with
    /// `end`, the response ends with them.
    pub(crate) async fn send_data(&mut self, mut data: Bytes, end: bool) -> Result<(), Ending> {
        let Some(sending) = &mut self.sending else {
            unreachable!("a body is only sent after its head")
        };
        while !data.is_empty() {
            sending.reserve_capacity(data.len());
            let room = match poll_fn(|cx| sending.poll_capacity(cx)).await {
                Some(Ok(room)) => room,
                Some(Err(error)) => return Err(lost(&self.log, &error)),
                None => return Err(Ending::ClientFin),
            };
            if room == 0 {
                continue;
            }
            let piece = data.split_to(room.min(data.len()));
            let n = piece.len() as u64;
            let last = end && data.is_empty();
            sending
                .send_data(piece, last)
                .map_err(|e| lost(&self.log, &e))?;
            self.traffic.sent += n;
            self.ended = last;
        }
        if end && !self.ended {
            sending
                .send_data(Bytes::new(), true)
                .map_err(|e| lost(&self.log, &e))?;
            self.ended = true;
        }
        Ok(())
    }

    /// Sends the trailers, which end the response.
    pub(crate) fn send_trailers(&mut self, trailers: http::HeaderMap) -> Result<(), Ending> {
        let Some(sending) = &mut self.sending else {
            unreachable!("trailers are only sent after a head")
        };
        sending
            .send_trailers(trailers)
            .map_err(|e| lost(&self.log, &e))?;
        self.ended = true;
        Ok(())
    }

    /// Reads the request body to its end without keeping it, giving the
    /// window back as it goes, so the client can send all of it.
    pub(crate) async fn drain_body(&mut self) -> Result<(), Ending> {
        while let Some(data) = self.body.data().await {
            let data = data.map_err(|e| lost(&self.log, &e))?;
            self.traffic.received += data.len() as u64;
            let _ = self.body.flow_control().release_capacity(data.len());
        }
        Ok(())
    }

    /// Waits, answering nothing more, until the client resets the stream or
    /// the connection ends.
    pub(crate) async fn hold(&mut self) -> Ending {
        let reset = match &mut self.sending {
            Some(sending) => poll_fn(|cx| sending.poll_reset(cx)).await,
            None => poll_fn(|cx| self.respond.poll_reset(cx)).await,
        };
        match reset {
            Ok(reason) => self.client_reset(u32::from(reason)),
            Err(error) => lost(&self.log, &error),
        }
    }

    fn client_reset(&self, code: u32) -> Ending {
        self.log.client_reset(Http2Code(code));
        Ending::ClientStreamReset
    }

    fn lost(&self, error: &h2::Error) -> Ending {
        lost(&self.log, error)
    }

    /// Gives up the stream to a fault that takes the whole connection: its
    /// request and its attempt go with it.
    pub(crate) fn hand_over(&mut self) -> (RequestHead, AttemptLog) {
        self.link.end_stream(self.id, self.watched);
        (self.head.clone(), self.log.clone())
    }

    /// Ends the attempt.
    pub(crate) fn finish(self, ending: Ending) {
        self.link.end_stream(self.id, self.watched);
        self.log.finish(ending, self.traffic);
    }
}

/// How a stream ended when sending on it failed: the client reset it, or
/// the connection went.
fn lost(log: &AttemptLog, error: &h2::Error) -> Ending {
    if let Some(reason) = error
        .reason()
        .filter(|_| error.is_reset() && error.is_remote())
    {
        log.client_reset(Http2Code(u32::from(reason)));
        return Ending::ClientStreamReset;
    }
    connection_lost(error)
}

/// How a connection ended when h2 failed with `error`: as its socket says,
/// or the client's leaving.
pub(crate) fn connection_lost(error: &h2::Error) -> Ending {
    match error.get_io() {
        Some(io) => client_error_ending(io),
        None => Ending::ClientFin,
    }
}
