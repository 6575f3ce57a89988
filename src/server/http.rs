//! Connections answered by hyper, for the responder faults.
//!
//! hyper reads each request and writes each response, and keeps the
//! connection alive between them. Each request is its own attempt, so a
//! `sequence` can move from a responder to a transport fault on the same
//! connection. When it does, the request's handler hands the raw connection
//! back ("takeover"): the connection is kept in a slot that hyper borrows for
//! each read and write, so it can be taken out once hyper is dropped.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::conn::Exchange;
use crate::conn::{Conn, Meter, client_error_ending};
use crate::fault::{Acts, Body, Fault, Request};
use crate::journal::{AttemptLog, Ending, Previous};
use crate::request::RequestHead;
use crate::server::Site;
use crate::server::accept::misbehave;
use crate::server::panic::{CatchUnwind, ON_PURPOSE, PanicAt};
use crate::server::slot::Slot;

/// Most headers hyper reads in a request head (its default, kept because a
/// higher one costs an allocation per request).
const HYPER_HEADERS: usize = 100;

/// Most bytes hyper buffers for a request head (its default).
pub(super) const HYPER_HEAD_BYTES: u64 = 8192 + 4096 * 100;

/// A request that a transport fault must answer on the raw connection.
struct Takeover {
    log: AttemptLog,
    head: RequestHead,
    /// The fault chosen for the request; choosing again could pick another
    /// step of its route.
    fault: Fault,
}

/// What the request handlers of one connection share.
struct Connection {
    site: Arc<Site>,
    id: u64,
    peer: SocketAddr,
    meter: Arc<Meter>,
    current: Mutex<Current>,
    /// A request handed to a transport fault, left by the handler that
    /// read it for the connection's task to take once hyper yields.
    takeover: Mutex<Option<Takeover>>,
}

/// Where the connection stands.
struct Current {
    /// The attempt in progress.
    log: AttemptLog,
    /// Whether a request head has reached it.
    has_request: bool,
    /// Which attempt's response was complete last, and when, from the
    /// server's start: kept here and journaled when that attempt ends, which
    /// saves a locked update of the journal per request.
    answered: Option<(u64, Duration)>,
    /// Whether the last request asked the server to close after answering.
    close_requested: bool,
}

impl Connection {
    fn current(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request a handler left for a transport fault, if any.
    fn take_takeover(&self) -> Option<Takeover> {
        self.takeover
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Notes that the response of attempt `index` is complete.
    fn answered(&self, index: u64) {
        let now = self.site.journal.elapsed();
        self.current().answered = Some((index, now));
    }

    /// The attempt for a newly read request: the connection's first attempt,
    /// or a new one after the previous request was answered; and whether
    /// its action is journaled already.
    fn attempt_for(&self, head: &RequestHead) -> (AttemptLog, bool) {
        let mut current = self.current();
        let mut told = false;
        if current.has_request {
            // hyper read this head before asking for an answer, so its bytes
            // sit in the meter; move them from the previous attempt to this one.
            let traffic = self.meter.take_before_head(head.wire_len() as u64);
            let index = current.log.index();
            let previous = Previous {
                answered: current
                    .answered
                    .take()
                    .and_then(|(answered, at)| (answered == index).then_some(at)),
                traffic,
            };
            let action = self.site.fault.sole_responder().map(|r| r.action(head));
            told = action.is_some();
            current.log = self.site.journal.next_request(
                &current.log,
                previous,
                self.id,
                self.peer,
                (head, action),
            );
        } else {
            current.log.request(head);
        }
        current.has_request = true;
        current.close_requested = head.asks_to_close();
        (current.log.clone(), told)
    }
}

pub(crate) async fn serve(
    conn: Conn,
    first: AttemptLog,
    id: u64,
    peer: SocketAddr,
    site: &Arc<Site>,
) {
    let meter = conn.meter();
    let slot = Slot::new(conn);
    let shared = Arc::new(Connection {
        site: site.clone(),
        id,
        peer,
        meter: meter.clone(),
        current: Mutex::new(Current {
            log: first,
            has_request: false,
            answered: None,
            close_requested: false,
        }),
        takeover: Mutex::new(None),
    });
    let handler = shared.clone();
    let service = service_fn(move |request| answer(request, handler.clone()));
    let mut served =
        Box::pin(http1::Builder::new().serve_connection(TokioIo::new(slot.clone()), service));
    // A handler that hands its request over does so while hyper polls it,
    // then waits forever: the takeover is looked for each time hyper
    // yields, which costs less than a channel's wake-ups on every request.
    let outcome = std::future::poll_fn(|cx| match served.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(Ok(result)),
        Poll::Pending => shared
            .take_takeover()
            .map_or(Poll::Pending, |takeover| Poll::Ready(Err(takeover))),
    });
    let ending = tokio::select! {
        outcome = outcome => match outcome {
            Ok(result) => ending_of(result, &shared),
            Err(takeover) => {
                drop(served);
                return hand_over(takeover, &slot, site).await;
            }
        },
        () = site.stop.cancelled() => Ending::ServerStopped,
    };
    drop(served);
    drop(slot.take());
    let log = shared.current().log.clone();
    log.finish(ending, meter.take());
}

/// Hands the connection, taken back from hyper, to the transport fault
/// chosen for the request `takeover` carries.
async fn hand_over(takeover: Takeover, slot: &Slot, site: &Arc<Site>) {
    let Takeover { log, head, fault } = takeover;
    let Some(conn) = slot.take() else { return };
    // The fault is a transport fault's own, so it acts on any attempt.
    if let Acts::Misbehave(fault) = fault.for_attempt(0).acts() {
        misbehave(fault, Exchange::new(conn, Some(head), log), site).await;
    }
}

async fn answer(
    request: http::Request<Incoming>,
    connection: Arc<Connection>,
) -> Result<http::Response<Answered>, Infallible> {
    let head = RequestHead::from_hyper(&request);
    let (log, told) = connection.attempt_for(&head);
    let chosen = connection.site.for_request(&log, &head);
    match chosen.acts() {
        Acts::Respond(responder) => {
            // Read the whole request body, so the connection can carry the next
            // request, without keeping it.
            let mut body = request.into_body();
            while let Some(Ok(_)) = body.frame().await {}
            let asked = Request {
                head: &head,
                attempt: log.index(),
                peer: connection.peer,
            };
            let hook = connection.site.panic_at;
            let response = CatchUnwind(pin!(async {
                if hook == Some(PanicAt::Respond) {
                    panic!("{ON_PURPOSE}");
                }
                if !told {
                    log.action(responder.action(&head));
                }
                responder.respond(&asked).await
            }));
            Ok(match response.await {
                Ok(response) if hook == Some(PanicAt::Body) => {
                    response.map(|_| Answered::unlogged(Body::boxed(PanicBody)))
                }
                Ok(response) => response.map(|body| Answered {
                    body,
                    connection: Some((connection.clone(), log.index())),
                }),
                Err(panic) => {
                    log.action(format!(
                        "the fault panicked ({panic}); answered 500 and closed"
                    ));
                    failed().map(Answered::unlogged)
                }
            })
        }
        Acts::Stream(_) => {
            let mut body = request.into_body();
            while let Some(Ok(_)) = body.frame().await {}
            log.action(needs_http2_action(chosen.fault().name(), head.version()));
            Ok(needs_http2().map(Answered::unlogged))
        }
        Acts::Misbehave(_) | Acts::Route(_) | Acts::Listener(_) => {
            // The connection's task takes it once hyper yields, drops hyper,
            // and this future with it.
            let fault = chosen.fault().clone();
            *connection
                .takeover
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(Takeover { log, head, fault });
            std::future::pending().await
        }
    }
}

/// The answer to a request whose responder panicked; the connection closes
/// after it, as whatever state the fault kept is suspect.
fn failed() -> http::Response<Body> {
    http::Response::builder()
        .status(500)
        .header("content-type", "text/plain")
        .header("connection", "close")
        .body(Body::whole(Bytes::from_static(
            b"outage: the fault failed; see the journal\n",
        )))
        .expect("a response with a fixed valid status and headers always builds")
}

/// The body of an HTTP/2 fault's answer to an HTTP/1 request.
pub(super) const NEEDS_HTTP2: &[u8] =
    b"outage: this fault acts on HTTP/2 streams; use HTTP/2 prior knowledge \
    (curl --http2-prior-knowledge) on http, or ALPN h2 on https\n";

/// What the journal says of an HTTP/2 fault's answer to an HTTP/1 request.
pub(super) fn needs_http2_action(fault: &str, version: &str) -> String {
    format!("{fault} needs HTTP/2, and the client spoke {version}; answered 505")
}

/// The answer of an HTTP/2 fault to an HTTP/1 request.
fn needs_http2() -> http::Response<Body> {
    http::Response::builder()
        .status(505)
        .header("content-type", "text/plain")
        .body(Body::whole(Bytes::from_static(NEEDS_HTTP2)))
        .expect("a response with a fixed valid status and headers always builds")
}

/// A response body that tells its connection, when it has one, when hyper
/// is done with it: after its last byte, or when the connection ends first.
struct Answered {
    body: Body,
    /// The connection, and the index of the attempt the body answers.
    connection: Option<(Arc<Connection>, u64)>,
}

impl Answered {
    fn unlogged(body: Body) -> Answered {
        Answered {
            body,
            connection: None,
        }
    }
}

impl hyper::body::Body for Answered {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Answered {
    fn drop(&mut self) {
        if let Some((connection, attempt)) = &self.connection {
            connection.answered(*attempt);
        }
    }
}

/// A response body that panics when read, for the tests of panic handling.
struct PanicBody;

impl hyper::body::Body for PanicBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        panic!("{ON_PURPOSE}")
    }
}

fn ending_of(result: Result<(), hyper::Error>, connection: &Connection) -> Ending {
    let (log, had_request, close_requested) = {
        let current = connection.current();
        let log = current.log.clone();
        (log, current.has_request, current.close_requested)
    };
    let error = match result {
        Ok(()) if close_requested => return Ending::ServerFin,
        Ok(()) => return Ending::ClientFin,
        Err(error) => error,
    };
    if let Some(io_error) =
        std::error::Error::source(&error).and_then(|s| s.downcast_ref::<io::Error>())
    {
        return client_error_ending(io_error);
    }
    if error.is_parse_version_h2() {
        // hyper answers nothing to the preface: an HTTP/2 client could not
        // read an HTTP/1 status anyway.
        log.also("HTTP/2 prior knowledge (the `PRI * HTTP/2.0` preface) is not served; closed without answering".to_owned());
        return Ending::ServerFin;
    }
    if error.is_parse() || error.is_parse_too_large() {
        // hyper answers 414 to a request line too long for it, 431 to a
        // head over its size or header count, and 400 to the rest.
        let uri_too_long = error.to_string().contains("URI too long");
        let answer = match (error.is_parse_too_large(), connection.meter.sent()) {
            (true, _) if uri_too_long => "answered 414 and closed",
            (true, _) => "answered 431 and closed",
            (false, 0) => "closed without answering",
            (false, _) => "answered with an error status and closed",
        };
        let why = match error.is_parse_too_large() {
            true if uri_too_long => "request target too long".to_owned(),
            // hyper reports both of its head limits as one error; a head that
            // stopped short of the size limit hit the count.
            true if connection.meter.received() < HYPER_HEAD_BYTES => {
                format!("request head has more than {HYPER_HEADERS} headers")
            }
            true => format!("request head larger than {HYPER_HEAD_BYTES} bytes"),
            false => error.to_string(),
        };
        // After a request was answered on this connection, the bytes that
        // followed it are journaled with it rather than replacing what it did.
        log.also(format!("unreadable request ({why}); {answer}"));
        return Ending::ServerFin;
    }
    if !had_request {
        log.action("client left before sending a full request");
    }
    Ending::ClientFin
}
