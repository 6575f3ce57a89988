//! A request a responder answers in the upstream's place: the upstream
//! never sees it.

use http_body_util::BodyExt;

use crate::conn::client_error_ending;
use crate::conn::framing::{self, BodyEnd};
use crate::fault::{Body, Request, Respond};
use crate::journal::AttemptLog;
use crate::request::RequestHead;
use crate::server::relay::{Next, Relay};

impl<'a> Relay<'a> {
    /// Reads the request's body (so the connection can carry the next
    /// request), then sends the responder's answer.
    pub(super) async fn answer(
        &mut self,
        log: &AttemptLog,
        head: &RequestHead,
        responder: &dyn Respond,
    ) -> Next<'a> {
        let mut end = BodyEnd::new(framing::of_request(head.headers()));
        loop {
            match self.conn.read_body(&mut end).await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(ending) => return Next::Ended(ending),
            }
        }
        let asked = Request {
            head,
            attempt: log.index(),
            peer: self.peer,
        };
        log.action(format!(
            "{}; the upstream never saw the request",
            responder.action(head)
        ));
        let response = responder.respond(&asked).await;
        let closes = head.asks_to_close()
            || response
                .headers()
                .get("connection")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let bytes = to_wire(response).await;
        if let Err(e) = self.conn.send(&bytes).await {
            return Next::Ended(client_error_ending(&e));
        }
        match closes {
            true => Next::Ended(self.conn.close_fin().await),
            false => {
                log.answered();
                Next::KeptAlive
            }
        }
    }
}

/// A responder's answer as HTTP/1.1 bytes, with its length.
async fn to_wire(response: http::Response<Body>) -> Vec<u8> {
    let (parts, body) = response.into_parts();
    // Responders answering in place have short bodies of their own making.
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let reason = parts.status.canonical_reason().unwrap_or("Unknown");
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", parts.status.as_u16()).into_bytes();
    for (name, value) in &parts.headers {
        if name == http::header::CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    out.extend_from_slice(
        format!("date: {date}\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes(),
    );
    out.extend_from_slice(&body);
    out
}
