//! Connections served over HTTP/2, each stream its own attempt.
//!
//! The `h2` crate speaks the protocol through a tap (`conn::http2`) that can
//! add frames of a fault's own. Each stream is picked a fault like an HTTP/1
//! request: a responder's answer is sent on the stream with flow control, an
//! `h2-*` fault acts on the stream and its connection, and a transport fault
//! takes the raw connection back from h2, ending every stream on it.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::RecvStream;
use h2::server::{Connection, SendResponse};
use http_body_util::BodyExt;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use crate::conn::http2::{Link, Stop, StreamExchange, Tap, TapControl, connection_lost};
use crate::conn::{Conn, Exchange};
use crate::fault::{Acted, Acts, Fault, HEALTHY, Http2Settings, Request, Respond};
use crate::journal::{AttemptLog, Ending, Http2Code};
use crate::request::RequestHead;
use crate::server::Site;
use crate::server::accept::misbehave;
// As large a request head, decoded, as an HTTP/1 client may send.
use crate::server::http::HYPER_HEAD_BYTES;
use crate::server::panic::CatchUnwind;
use crate::server::slot::Slot;

/// Longest a client may take to send its preface and SETTINGS.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After a graceful GOAWAY whose streams are all answered, how long the
/// server waits for the client to close before it closes itself; and after
/// it closes, how long it reads what the client still sends.
const LINGER: Duration = Duration::from_secs(5);

/// Streams a client may have open at once, unless the fault says otherwise:
/// enough for any client under test, few enough to bound what one
/// connection can make the server hold.
const MAX_STREAMS: u32 = 256;

/// A stream whose fault takes the raw connection back.
struct Takeover {
    fault: Fault,
    head: RequestHead,
    log: AttemptLog,
}

/// What the stream tasks of one connection share with it.
struct Shared {
    site: Arc<Site>,
    peer: SocketAddr,
    link: Arc<Link>,
    takeover: mpsc::Sender<Takeover>,
}

/// Serves one connection over HTTP/2, each stream its own attempt; `first`
/// is the attempt begun when the connection was accepted, the first
/// stream's.
pub(crate) async fn serve(
    conn: Conn,
    first: AttemptLog,
    id: u64,
    peer: SocketAddr,
    site: &Arc<Site>,
    settings: Http2Settings,
) {
    let meter = conn.meter();
    // Frames are small and go one by one, often several in flight: Nagle's
    // algorithm would hold a response back until the client's delayed ACK.
    let _ = conn.set_nodelay();
    let slot = Slot::new(conn);
    let control = Arc::new(TapControl::default());
    let connection = match open(&slot, &control, settings, &first, site).await {
        Ok(connection) => connection,
        Err(ending) => {
            drop(slot.take());
            return first.finish(ending, meter.take());
        }
    };
    let (takeover, takeovers) = mpsc::channel(1);
    let shared = Arc::new(Shared {
        site: site.clone(),
        peer,
        link: Arc::new(Link::new(control)),
        takeover,
    });
    let streams = TaskTracker::new();
    let mut first = Some(first);
    let driven = drive(connection, &shared, takeovers, &streams, &mut first, id).await;
    let conn = slot.take();
    match driven {
        Driven::TakenOver(taken) => {
            // What h2 counted belongs to the streams; the fault's bytes start here.
            meter.take();
            if let Some(conn) = conn {
                take_over(conn, *taken, site).await;
            }
            streams.close();
            streams.wait().await;
        }
        Driven::Ended(ending) => {
            streams.close();
            streams.wait().await;
            if let (Some(conn), Ending::ServerFin) = (conn, ending) {
                close_lingering(conn, site).await;
            }
            if let Some(first) = first {
                first.action("no HTTP/2 stream before the connection ended");
                first.finish(ending, meter.take());
            }
        }
    }
}

/// How driving a connection ended.
enum Driven {
    Ended(Ending),
    /// A stream's transport fault takes the raw connection.
    TakenOver(Box<Takeover>),
}

/// The server's side of the HTTP/2 preface, bounded in time; a failure is
/// journaled in `first`.
async fn open(
    slot: &Slot,
    control: &Arc<TapControl>,
    settings: Http2Settings,
    first: &AttemptLog,
    site: &Site,
) -> Result<Connection<Tap<Slot>, Bytes>, Ending> {
    tokio::select! {
        () = site.stop.cancelled() => Err(Ending::ServerStopped),
        shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(slot, control, settings)) => match shaken {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(error)) => {
                first.action(format!("HTTP/2 handshake failed ({error}); closed"));
                Err(connection_lost(&error))
            }
            Err(_) => {
                first.action("no HTTP/2 preface and SETTINGS within 10s; closed");
                Err(Ending::ServerFin)
            }
        },
    }
}

/// Accepts streams, each answered by its own task, until the connection
/// ends, a fault closes it, or a stream's fault takes it over; then tells
/// the streams how it ended, before h2 fails them for its going.
async fn drive(
    mut connection: Connection<Tap<Slot>, Bytes>,
    shared: &Arc<Shared>,
    mut takeovers: mpsc::Receiver<Takeover>,
    streams: &TaskTracker,
    first: &mut Option<AttemptLog>,
    id: u64,
) -> Driven {
    let site = &shared.site;
    let mut linger = pin!(tokio::time::sleep(Duration::MAX));
    let mut lingering = false;
    // Made once, not for every stream.
    let mut stopped = pin!(site.stop.cancelled());
    let mut closing = pin!(shared.link.closing());
    let driven = loop {
        tokio::select! {
            biased;
            () = &mut stopped => break Driven::Ended(Ending::ServerStopped),
            Some(taken) = takeovers.recv() => break Driven::TakenOver(Box::new(taken)),
            () = &mut closing, if !lingering => {
                if shared.link.closes_at_once() {
                    break Driven::Ended(Ending::ServerFin);
                }
                // The client closes once it has its answers; if not, the server does.
                lingering = true;
                linger.as_mut().reset(tokio::time::Instant::now() + LINGER);
            }
            () = &mut linger => break Driven::Ended(Ending::ServerFin),
            accepted = connection.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    let head = RequestHead::from_http2(&request);
                    let stream_id = u32::from(respond.stream_id());
                    let log = match first.take() {
                        Some(log) => {
                            log.stream_request(stream_id, &head);
                            log
                        }
                        None => site.journal.begin_stream(id, shared.peer, stream_id, &head),
                    };
                    // Boxed, the task is small, and its allocation ordinary.
                    let answer = stream(request, respond, head, log, shared.clone());
                    streams.spawn(Box::pin(answer));
                }
                Some(Err(error)) => break Driven::Ended(connection_lost(&error)),
                None => break Driven::Ended(Ending::ClientFin),
            },
        }
    };
    let ending = match &driven {
        Driven::Ended(ending) => *ending,
        Driven::TakenOver(_) => Ending::ServerFin,
    };
    shared.link.end(ending);
    drop(connection);
    driven
}

/// Closes with a FIN and reads what the client still sends until it closes
/// too (or [`LINGER`] passes, or the server stops): an HTTP/2 client keeps
/// acknowledging frames, and a socket closed with unread input sends an RST.
async fn close_lingering(mut conn: Conn, site: &Site) {
    conn.close_fin().await;
    tokio::select! {
        _ = tokio::time::timeout(LINGER, conn.until_client_leaves()) => {}
        () = site.stop.cancelled() => {}
    }
}

/// The server's side of the HTTP/2 preface, with the fault's SETTINGS.
async fn handshake(
    slot: &Slot,
    control: &Arc<TapControl>,
    settings: Http2Settings,
) -> Result<Connection<Tap<Slot>, Bytes>, h2::Error> {
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(settings.max_concurrent_streams.unwrap_or(MAX_STREAMS))
        .max_header_list_size(HYPER_HEAD_BYTES as u32);
    if let Some(window) = settings.initial_window_size {
        builder.initial_window_size(window);
    }
    builder
        .handshake(Tap::new(slot.clone(), control.clone()))
        .await
}

/// Answers one stream, ending its attempt when the stream or its
/// connection ends.
async fn stream(
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    head: RequestHead,
    log: AttemptLog,
    shared: Arc<Shared>,
) {
    let mut exchange = StreamExchange::new(request, respond, head, shared.link.clone(), log);
    let (link, id) = (shared.link.clone(), exchange.id);
    let stopped = tokio::select! {
        biased;
        stop = link.stops(id) => stop,
        outcome = act(&mut exchange, &shared) => match outcome {
            Outcome::Ended(ending) => return exchange.finish(ending),
            Outcome::TakenOver => return,
        },
    };
    let ending = match stopped {
        Stop::Ended(ending) => ending,
        Stop::Abandoned => {
            exchange
                .log()
                .also("left unprocessed: above the GOAWAY's last-stream-id".to_owned());
            link.ended().await
        }
    };
    exchange.finish(ending);
}

/// What became of a stream.
enum Outcome {
    Ended(Ending),
    /// A transport fault took the connection, and the attempt with it.
    TakenOver,
}

async fn act(exchange: &mut StreamExchange, shared: &Shared) -> Outcome {
    let chosen = shared.site.for_request(exchange.log(), &exchange.head);
    let acted = match chosen.acts() {
        Acts::Respond(responder) => {
            let action = responder.action(&exchange.head);
            exchange.did(action);
            return Outcome::Ended(answer(exchange, responder, shared.peer).await);
        }
        Acts::Stream(fault) => CatchUnwind(pin!(fault.act(exchange))).await,
        Acts::Misbehave(_) => {
            let (head, log) = exchange.hand_over();
            let fault = chosen.fault().clone();
            let _ = shared.takeover.send(Takeover { fault, head, log }).await;
            return Outcome::TakenOver;
        }
        Acts::Route(_) | Acts::Listener(_) => {
            exchange.did("no fault to apply; reset the stream");
            return Outcome::Ended(exchange.reset(Http2Code::INTERNAL_ERROR));
        }
    };
    Outcome::Ended(match acted {
        Ok(Acted::Ended(ending)) => ending,
        Ok(Acted::AnswerOk) => answer(exchange, &*HEALTHY, shared.peer).await,
        Err(panic) => {
            exchange.did(format!("the fault panicked ({panic}); reset the stream"));
            exchange.reset(Http2Code::INTERNAL_ERROR)
        }
    })
}

fn request<'a>(exchange: &'a StreamExchange, peer: SocketAddr) -> Request<'a> {
    Request {
        head: &exchange.head,
        attempt: exchange.log().index(),
        peer,
    }
}

/// Answers the stream with `responder`'s response, sent as flow control allows.
async fn answer(
    exchange: &mut StreamExchange,
    responder: &dyn Respond,
    peer: SocketAddr,
) -> Ending {
    if let Err(ending) = exchange.drain_body().await {
        return ending;
    }
    let response = {
        let asked = request(exchange, peer);
        CatchUnwind(pin!(responder.respond(&asked))).await
    };
    let response = match response {
        Ok(response) => response,
        Err(panic) => {
            exchange.did(format!("the fault panicked ({panic}); reset the stream"));
            return exchange.reset(Http2Code::INTERNAL_ERROR);
        }
    };
    match send(exchange, response).await {
        Ok(()) => Ending::StreamEnded,
        Err(ending) => ending,
    }
}

async fn send(
    exchange: &mut StreamExchange,
    response: http::Response<crate::fault::Body>,
) -> Result<(), Ending> {
    let (mut parts, mut body) = response.into_parts();
    // HTTP/2 has no connection-specific headers (RFC 9113 §8.2.2); of them
    // a responder sets only `connection`.
    if parts.headers.contains_key(http::header::CONNECTION) {
        parts.headers.remove(http::header::CONNECTION);
    }
    if hyper::body::Body::is_end_stream(&body) {
        return exchange.send_head(http::Response::from_parts(parts, ()), true);
    }
    exchange.send_head(http::Response::from_parts(parts, ()), false)?;
    while let Some(Ok(frame)) = body.frame().await {
        match frame.into_data() {
            // The last DATA frame ends the stream itself.
            Ok(data) => {
                let last = hyper::body::Body::is_end_stream(&body);
                exchange.send_data(data, last).await?;
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    return exchange.send_trailers(trailers);
                }
            }
        }
    }
    exchange.send_data(Bytes::new(), true).await
}

/// Hands the raw connection to the transport fault a stream chose.
async fn take_over(conn: Conn, taken: Takeover, site: &Site) {
    let Takeover {
        fault,
        head,
        mut log,
    } = taken;
    log.preface("took over the HTTP/2 connection");
    // The fault is a transport fault's own, so it acts on any attempt.
    if let Acts::Misbehave(fault) = fault.for_attempt(0).acts() {
        misbehave(fault, Exchange::new(conn, Some(head), log), site).await;
    }
}
