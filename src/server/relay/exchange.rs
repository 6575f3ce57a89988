//! One request passed to the upstream, and its response passed back shaped.

use bytes::Bytes;

use crate::conn::client_error_ending;
use crate::conn::framing::{self, BodyEnd, Framing};
use crate::fault::Shape;
use crate::journal::{AttemptLog, Ending};
use crate::request::RequestHead;
use crate::server::relay::shaped::{Sent, Shaped};
use crate::server::relay::upstream::{NoResponse, ResponseHead, Upstream};
use crate::server::relay::{Next, Relay};

/// How far the request's body has gone to the upstream.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RequestBody {
    /// All of it (or there is none).
    Sent,
    /// None yet: the client waits for `100 Continue` first.
    Held,
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
        let (next, reusable) = self.exchange(log, head, bytes, shape, &mut up).await;
        log.upstream(up.take_leg());
        if reusable && matches!(next, Next::KeptAlive) {
            self.upstream = Some(up);
        }
        next
    }

    async fn exchange(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        bytes: &[u8],
        shape: Shape,
        up: &mut Upstream,
    ) -> (Next<'a>, bool) {
        if let Err(ending) = self.send_request(head, bytes, up).await {
            log.action("the client left while its request was passed on");
            return (Next::Ended(ending), false);
        }
        let waits_for_continue = expects_continue(head);
        let mut body = match waits_for_continue {
            true => RequestBody::Held,
            false => RequestBody::Sent,
        };
        let response = loop {
            let response = match up.read_head().await {
                Ok(response) => response,
                Err(no_response) => return (self.pass_broken(log, no_response).await, false),
            };
            match response.status {
                101 => return (self.tunnel(log, &response, up).await, false),
                100..=199 => {
                    if let Err(ending) = self.conn.send(&response.bytes).await {
                        return (Next::Ended(client_error_ending(&ending)), false);
                    }
                    if response.status == 100 && body == RequestBody::Held {
                        if let Err(ending) = self.send_body(head, up).await {
                            return (Next::Ended(ending), false);
                        }
                        body = RequestBody::Sent;
                    }
                }
                _ => break response,
            }
        };
        self.pass_response(log, head, &response, shape, up, body)
            .await
    }

    /// Writes the head to the upstream as the client sent it, then the body
    /// unless the client waits for `100 Continue`.
    async fn send_request(
        &mut self,
        head: &RequestHead,
        bytes: &[u8],
        up: &mut Upstream,
    ) -> Result<(), Ending> {
        // An upstream that closed since the last attempt shows when its
        // answer is read; a write to it may still succeed.
        let _ = up.send(bytes).await;
        if expects_continue(head) {
            return Ok(());
        }
        self.send_body(head, up).await
    }

    async fn send_body(&mut self, head: &RequestHead, up: &mut Upstream) -> Result<(), Ending> {
        let mut end = BodyEnd::new(framing::of_request(head.header_pairs()));
        while let Some(piece) = self.conn.read_body(&mut end).await? {
            let _ = up.send(&piece).await;
        }
        Ok(())
    }

    /// Sends the final response, shaped, and decides whether both
    /// connections stay open.
    async fn pass_response(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        response: &ResponseHead,
        shape: Shape,
        up: &mut Upstream,
        body: RequestBody,
    ) -> (Next<'a>, bool) {
        let framing = framing::of_response(&head.method, response.status, response.header_pairs());
        let mut shaped = Shaped::new(shape);
        shaped.framed(
            match framing {
                Framing::Length(n) => Some(n),
                Framing::Empty => Some(0),
                _ => None,
            },
            framing == Framing::Chunked,
        );
        let status = response.status;
        let said = |what: &str| {
            log.action(format!(
                "passed to the upstream, which answered {status}; {what}"
            ))
        };
        said(&describe(shape));
        match shaped.head(&mut self.conn, &response.bytes).await {
            Ok(Sent::Whole) => {}
            Ok(Sent::Cut(ending)) | Err(ending) => return (Next::Ended(ending), false),
        }
        let mut end = BodyEnd::new(framing);
        loop {
            let piece = match up.read_body(&mut end).await {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(reset) => {
                    said(&format!(
                        "{}; the upstream ended its body short, and so did the proxy",
                        describe(shape)
                    ));
                    return (Next::Ended(self.end_like(reset).await), false);
                }
            };
            shaped.first_chunk(end.first_chunk());
            match shaped.body(&mut self.conn, &piece).await {
                Ok(Sent::Whole) => {}
                Ok(Sent::Cut(ending)) | Err(ending) => return (Next::Ended(ending), false),
            }
        }
        shaped.end().await;
        let upstream_open = !response.closes() && framing != Framing::UntilClose;
        let client_open = shape.keeps_alive()
            && upstream_open
            && body == RequestBody::Sent
            && !head.asks_to_close();
        if shape.cut != crate::fault::Cut::Never {
            said(&format!(
                "{}; the response was whole before the cut, then closed",
                describe(shape)
            ));
        }
        match client_open {
            true => {
                log.answered();
                (Next::KeptAlive, upstream_open)
            }
            false => (Next::Ended(self.conn.close_fin().await), false),
        }
    }

    /// Passes on what an upstream sent before it closed without a complete
    /// response head, or bytes that are no HTTP/1 response at all (then the
    /// connection becomes a tunnel).
    async fn pass_broken(&mut self, log: &AttemptLog, broken: NoResponse) -> Next<'a> {
        match broken {
            NoResponse::Closed { bytes, reset } => {
                log.action(format!(
                    "passed to the upstream, which {} after {} bytes and no complete response head; the proxy passed those on and did the same",
                    if reset { "reset" } else { "closed" },
                    bytes.len()
                ));
                if let Err(e) = self.conn.send(&bytes).await {
                    return Next::Ended(client_error_ending(&e));
                }
                Next::Ended(self.end_like(reset).await)
            }
            NoResponse::NotHttp(bytes) => {
                log.action("passed to the upstream, whose answer is no HTTP/1 response; passed through as bytes");
                self.pipe(bytes, Bytes::new(), None).await
            }
        }
    }

    /// Passes a `101 Switching Protocols` on and tunnels the bytes each way
    /// until either side closes.
    async fn tunnel(
        &mut self,
        log: &AttemptLog,
        response: &ResponseHead,
        up: &mut Upstream,
    ) -> Next<'a> {
        log.action("passed to the upstream, which switched protocols (101); tunnelled both ways");
        let first = [response.bytes.clone(), up.take_buffered()].concat();
        let to_upstream = self.conn.take_buffered();
        self.pipe(Bytes::from(first), to_upstream, Some(up)).await
    }

    async fn pipe(
        &mut self,
        to_client: Bytes,
        to_upstream: Bytes,
        up: Option<&mut Upstream>,
    ) -> Next<'a> {
        if let Err(e) = self.conn.send(&to_client).await {
            return Next::Ended(client_error_ending(&e));
        }
        let Some(up) = up else {
            return Next::Ended(self.conn.close_fin().await);
        };
        let _ = up.send(&to_upstream).await;
        match tokio::io::copy_bidirectional(&mut self.conn, &mut up.stream).await {
            Ok(_) => Next::Ended(Ending::ClientFin),
            Err(e) => Next::Ended(client_error_ending(&e)),
        }
    }

    /// Ends the client's connection as the upstream ended the proxy's.
    async fn end_like(&mut self, reset: bool) -> Ending {
        match reset {
            true => self.conn.close_rst(),
            false => self.conn.close_fin().await,
        }
    }
}

/// What a shape did, in words.
fn describe(shape: Shape) -> String {
    use crate::fault::{Cut, Pace};
    let mut parts = Vec::new();
    if !shape.head_delay.is_zero() {
        parts.push(format!(
            "held its head {}",
            humantime::format_duration(shape.head_delay)
        ));
    }
    match shape.pace {
        Pace::AsTheyCome => {}
        Pace::Drip(interval) => parts.push(format!(
            "dripped its body a byte every {}",
            humantime::format_duration(interval)
        )),
        Pace::Rate(rate) => parts.push(format!("throttled it to {rate} B/s")),
        Pace::Slices(size, delay) => parts.push(format!(
            "sliced it into {size}-byte writes {} apart",
            humantime::format_duration(delay)
        )),
    }
    match shape.cut {
        Cut::Never => {}
        Cut::BodyBytes(n) => parts.push(format!("cut it after at most {n} body bytes (FIN)")),
        Cut::InFirstChunk(n) => parts.push(format!(
            "cut it inside its first chunk, after at most {n} data bytes (FIN)"
        )),
        Cut::Bytes(n) => parts.push(format!("cut it after {n} bytes (FIN)")),
        Cut::ResetAfterBody(n) => parts.push(format!("reset after at most {n} body bytes (RST)")),
        Cut::ResetBeforeHead => {
            parts.push("reset before any of it reached the client (RST)".to_owned())
        }
    }
    if let Some(delay) = shape.close_delay {
        parts.push(format!(
            "held the close {}",
            humantime::format_duration(delay)
        ));
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
