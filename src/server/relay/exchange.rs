//! One request passed to the upstream, and its response passed back
//! shaped. The request's body and the response flow at the same time, so an
//! upstream that answers while it still reads never waits on the proxy.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::oneshot;

use crate::conn::client_error_ending;
use crate::conn::framing::{self, BodyEnd, Framing};
use crate::fault::{Cut, Pace, Shape};
use crate::journal::{AttemptLog, Ending};
use crate::request::RequestHead;
use crate::server::relay::shaped::{self, Close, Sent, Shaped};
use crate::server::relay::upstream::{
    NoResponse, ResponseHead, Upstream, UpstreamReader, UpstreamWriter,
};
use crate::server::relay::{Next, Relay};

/// How far the request's body went to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestBody {
    /// All of it (or there is none).
    Sent,
    /// None: the client waited for a `100 Continue` that never came.
    Held,
    /// The client left before its body was complete.
    ClientGone(Ending),
}

/// What became of the response.
pub(super) enum Flow {
    /// It is complete; the upstream's connection can carry another request
    /// when `reusable`.
    Complete { reusable: bool },
    /// These bytes go to the client, then its connection closes: after a
    /// cut, or an upstream that ended its answer short (closed the same way).
    Ends(Bytes, Close),
    /// The client's connection failed while the response was sent.
    ClientGone(Ending),
    /// The upstream switched protocols, or answered with bytes that are no
    /// HTTP/1 response: these bytes go to the client, then the connection
    /// is a tunnel.
    Tunnel(Bytes),
}

impl<'a> Relay<'a> {
    /// Passes the request to the upstream and its response back, shaped;
    /// the upstream connection is kept for the next attempt when both
    /// sides keep theirs alive.
    pub(super) async fn forward(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        bytes: &[u8],
        shape: Shape,
    ) -> Next<'a> {
        let mut up = match self.upstream().await {
            Ok(up) => up,
            Err(failure) => return self.unreachable(log, failure).await,
        };
        // Journaled now, so that an attempt the server's stop cuts short
        // still says the upstream had the request.
        log.upstream(up.leg());
        let (body, flow) = self.exchange(log, head, bytes, shape, &mut up).await;
        let next = self.finish(log, head, shape, body, &flow, &mut up).await;
        log.upstream(up.take_leg());
        if let (Next::KeptAlive, Flow::Complete { reusable: true }) = (&next, &flow) {
            self.upstream = Some(up);
        }
        next
    }

    /// Runs the request body and the response at once, on the two sides of
    /// each connection.
    async fn exchange(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        bytes: &[u8],
        shape: Shape,
        up: &mut Upstream,
    ) -> (Option<RequestBody>, Flow) {
        let mut leftover = BytesMut::new();
        let outcome = {
            let (mut from_client, mut to_client) = tokio::io::split(&mut self.conn);
            let (mut from_up, mut to_up) = up.split();
            // An upstream that closed since the last attempt shows when its
            // answer is read; a write to it may still succeed.
            let _ = to_up.send(bytes).await;
            let (go_on, continued) = oneshot::channel();
            let gate = expects_continue(head).then_some(continued);
            let framing = framing::of_request(head.headers());
            let request = send_body(&mut from_client, &mut to_up, framing, gate, &mut leftover);
            let response = pass_response(&mut from_up, &mut to_client, log, head, shape, go_on);
            race(request, response).await
        };
        self.conn.unread(leftover.freeze());
        outcome
    }

    /// Ends the attempt as the flow says: the connection kept alive, closed,
    /// cut, or become a tunnel.
    async fn finish(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        shape: Shape,
        body: Option<RequestBody>,
        flow: &Flow,
        up: &mut Upstream,
    ) -> Next<'a> {
        if let Some(RequestBody::ClientGone(ending)) = body {
            log.also("the client left before its request body was complete".to_owned());
            return Next::Ended(ending);
        }
        match flow {
            Flow::Complete { reusable } => {
                let whole = body == Some(RequestBody::Sent);
                if shape.keeps_alive() && whole && !head.asks_to_close() && *reusable {
                    log.answered();
                    return Next::KeptAlive;
                }
                if shape.cut != Cut::Never {
                    log.also("the response was whole before the cut".to_owned());
                }
                Next::Ended(self.conn.close_fin().await)
            }
            Flow::ClientGone(ending) => Next::Ended(*ending),
            Flow::Tunnel(to_client) => self.tunnel(to_client, up).await,
            Flow::Ends(to_client, close) => {
                if let Err(e) = self.conn.send(to_client).await {
                    return Next::Ended(client_error_ending(&e));
                }
                match close {
                    Close::Fin => Next::Ended(self.conn.close_fin().await),
                    Close::Rst => Next::Ended(self.conn.close_rst()),
                }
            }
        }
    }

    /// Passes the bytes each way until either side closes.
    async fn tunnel(&mut self, to_client: &[u8], up: &mut Upstream) -> Next<'a> {
        if let Err(e) = self.conn.send(to_client).await {
            return Next::Ended(client_error_ending(&e));
        }
        let to_upstream = self.conn.take_buffered();
        let _ = up.split().1.send(&to_upstream).await;
        match tokio::io::copy_bidirectional(&mut self.conn, up).await {
            Ok(_) => Next::Ended(Ending::ClientFin),
            Err(e) => Next::Ended(client_error_ending(&e)),
        }
    }
}

/// Runs the request body and the response together until the response is
/// done (or the client leaves mid-body); a body still going then is left.
async fn race(
    request: impl Future<Output = RequestBody>,
    response: impl Future<Output = Flow>,
) -> (Option<RequestBody>, Flow) {
    let (mut request, mut response) = (std::pin::pin!(request), std::pin::pin!(response));
    let mut body = None;
    loop {
        tokio::select! {
            // The body first: a bodyless request's is sent at its first poll,
            // and must count as sent even when the answer is ready as early.
            biased;
            sent = &mut request, if body.is_none() => {
                if let RequestBody::ClientGone(ending) = sent {
                    return (Some(sent), Flow::ClientGone(ending));
                }
                body = Some(sent);
            }
            flow = &mut response => return (body, flow),
        }
    }
}

/// Passes the request's body to the upstream as the client sends it, after
/// a `100 Continue` when the client waits for one (`gate`). Bytes read past
/// the body (the next request's) stay in `leftover`.
async fn send_body<R: AsyncRead + Unpin>(
    from: &mut R,
    to: &mut UpstreamWriter<'_>,
    framing: Framing,
    gate: Option<oneshot::Receiver<()>>,
    leftover: &mut BytesMut,
) -> RequestBody {
    if let Some(gate) = gate
        && gate.await.is_err()
    {
        return RequestBody::Held;
    }
    let mut end = BodyEnd::new(framing);
    while !end.is_done() {
        if leftover.is_empty() {
            leftover.reserve(16 * 1024);
            match from.read_buf(leftover).await {
                Ok(0) => return RequestBody::ClientGone(Ending::ClientFin),
                Ok(_) => {}
                Err(e) => return RequestBody::ClientGone(client_error_ending(&e)),
            }
        }
        // A broken chunk ends the body where it broke; the upstream judges it.
        let used = end.scan(leftover).unwrap_or_else(|_| {
            end.stop();
            leftover.len()
        });
        let piece = leftover.split_to(used);
        // An upstream that stopped reading shows in its answer.
        let _ = to.send(&piece).await;
    }
    RequestBody::Sent
}

/// Reads the upstream's response heads, passes interim ones on (opening
/// the gate on a `100 Continue`), and sends the final response shaped.
async fn pass_response<W: AsyncWrite + Unpin>(
    from: &mut UpstreamReader<'_>,
    to: &mut W,
    log: &AttemptLog,
    head: &RequestHead,
    shape: Shape,
    go_on: oneshot::Sender<()>,
) -> Flow {
    let mut go_on = Some(go_on);
    let response = loop {
        let response = match from.read_head().await {
            Ok(response) => response,
            Err(broken) => return broken_answer(log, broken),
        };
        match response.status {
            101 => {
                log.action(
                    "passed to the upstream, which switched protocols (101); tunnelled both ways",
                );
                let first = [response.bytes, from.take_buffered()].concat();
                return Flow::Tunnel(first.into());
            }
            100..=199 => {
                if let Err(ending) = shaped::send(to, &response.bytes).await {
                    return Flow::ClientGone(ending);
                }
                if response.status == 100
                    && let Some(go_on) = go_on.take()
                {
                    let _ = go_on.send(());
                }
            }
            _ => break response,
        }
    };
    // The final answer came without a `100 Continue`: a held body stays held.
    drop(go_on);
    pass_final(from, to, log, head, &response, shape).await
}

/// Sends the final response, shaped.
async fn pass_final<W: AsyncWrite + Unpin>(
    from: &mut UpstreamReader<'_>,
    to: &mut W,
    log: &AttemptLog,
    head: &RequestHead,
    response: &ResponseHead,
    shape: Shape,
) -> Flow {
    let framing = framing::of_response(head.method(), response.status, response.header_pairs());
    let mut shaped = Shaped::new(shape);
    let length = match framing {
        Framing::Length(n) => Some(n),
        Framing::Empty => Some(0),
        Framing::Chunked | Framing::UntilClose => None,
    };
    shaped.framed(length, framing == Framing::Chunked);
    log.action(format!(
        "passed to the upstream, which answered {}; {}",
        response.status,
        describe(shape, framing == Framing::Chunked)
    ));
    let mut end = BodyEnd::new(framing);
    let sent = match shape == Shape::PASS {
        // The head and the body read with it leave in one write.
        true => {
            let first = from.body_buffered(&mut end);
            shaped::send(to, &[&response.bytes[..], &first[..]].concat())
                .await
                .map(|()| Sent::Whole)
        }
        false => shaped.head(to, &response.bytes).await,
    };
    match sent {
        Ok(Sent::Whole) => {}
        Ok(Sent::Cut(close)) => return shaped.cut(log, close),
        Err(ending) => return Flow::ClientGone(ending),
    }
    loop {
        let piece = match from.read_body(&mut end).await {
            Ok(Some(piece)) => piece,
            Ok(None) => break,
            Err(reset) => {
                log.also("the upstream ended its body short, and so did the proxy".to_owned());
                return Flow::Ends(Bytes::new(), close_like(reset));
            }
        };
        shaped.first_chunk(end.first_chunk());
        match shaped.body(to, &piece).await {
            Ok(Sent::Whole) => {}
            Ok(Sent::Cut(close)) => return shaped.cut(log, close),
            Err(ending) => return Flow::ClientGone(ending),
        }
    }
    if end.is_broken() {
        log.also(
            "its chunked body broke the chunk grammar; passed on as sent, then closed".to_owned(),
        );
        return Flow::Ends(Bytes::new(), Close::Fin);
    }
    shaped.end().await;
    let reusable = !response.closes() && framing != Framing::UntilClose;
    Flow::Complete { reusable }
}

/// What to do with an upstream that closed without a complete response
/// head, or answered with bytes that are no HTTP/1 response at all: pass on
/// what it sent, and close as it did.
fn broken_answer(log: &AttemptLog, broken: NoResponse) -> Flow {
    match broken {
        NoResponse::Closed { bytes, reset } => {
            log.action(format!(
                "passed to the upstream, which {} after {} bytes and no complete response head; the proxy passed those on and did the same",
                if reset { "reset" } else { "closed" },
                bytes.len()
            ));
            Flow::Ends(bytes, close_like(reset))
        }
        NoResponse::NotHttp(bytes) => {
            log.action("passed to the upstream, whose answer is no HTTP/1 response (or a head past 64 KiB); tunnelled both ways as bytes");
            Flow::Tunnel(bytes)
        }
    }
}

fn close_like(reset: bool) -> Close {
    match reset {
        true => Close::Rst,
        false => Close::Fin,
    }
}

/// What a shape did, in words.
fn describe(shape: Shape, chunked: bool) -> String {
    let wait = |d| humantime::format_duration(d).to_string();
    let mut parts = Vec::new();
    if !shape.head_delay.is_zero() {
        parts.push(format!("held its head {}", wait(shape.head_delay)));
    }
    match shape.pace {
        Pace::AsTheyCome => {}
        Pace::Drip(every) => parts.push(format!("dripped its body a byte every {}", wait(every))),
        Pace::Rate(rate) => parts.push(format!("throttled it to {rate} B/s")),
        Pace::Slices(size, delay) => parts.push(format!(
            "sliced it into {size}-byte writes {} apart",
            wait(delay)
        )),
    }
    match shape.cut {
        Cut::Never => {}
        Cut::BodyBytes(n) => parts.push(format!("cut it after at most {n} body bytes (FIN)")),
        Cut::InFirstChunk(n) if chunked => parts.push(format!(
            "cut it inside its first chunk, after at most {n} data bytes (FIN)"
        )),
        Cut::InFirstChunk(n) => parts.push(format!(
            "cut it after at most {n} body bytes, as its body is not chunked (FIN)"
        )),
        Cut::Bytes(n) => parts.push(format!("cut it after {n} bytes (FIN)")),
        Cut::ResetAfterBody(n) => parts.push(format!("reset after at most {n} body bytes (RST)")),
        Cut::ResetBeforeHead => {
            parts.push("reset before any of it reached the client (RST)".to_owned())
        }
    }
    if let Some(delay) = shape.close_delay {
        parts.push(format!("held the close {}", wait(delay)));
    }
    match parts.is_empty() {
        true => "passed it on as sent".to_owned(),
        false => parts.join(", "),
    }
}

fn expects_continue(head: &RequestHead) -> bool {
    head.header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}
