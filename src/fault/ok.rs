//! `ok`: a healthy server, with httpbin's routes.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use crate::fault::{
    Answer, FaultLeaf, Handling, Request, Respond, Shape, httpbin, setters, status,
};
use crate::request::RequestHead;

/// Answers `200 OK` with a short plain-text body, served by hyper, and keeps
/// the connection alive like any healthy HTTP/1.1 server. httpbin's routes
/// (`/get`, `/status/503`, `/delay/2` ...) answer as httpbin does, so code
/// written against httpbin.org runs offline against this server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Healthy {
    /// The response body for paths that are not httpbin's.
    pub body: String,
    /// The seed of httpbin's random answers (`/status/200,500`, `/bytes/n`).
    pub seed: u64,
}

/// The body of a healthy answer unless told otherwise.
const DEFAULT_BODY: &str = "ok\n";

impl Default for Healthy {
    fn default() -> Self {
        Healthy {
            body: DEFAULT_BODY.to_owned(),
            seed: 0,
        }
    }
}

impl Healthy {
    /// The body to send: the default one without a copy.
    fn body_bytes(&self) -> Bytes {
        match self.body == DEFAULT_BODY {
            true => Bytes::from_static(DEFAULT_BODY.as_bytes()),
            false => Bytes::from(self.body.clone()),
        }
    }
}

setters! {
    Healthy {
        /// The response body for paths that are not httpbin's (default `ok`).
        body: impl Into<String>,
        /// The seed of httpbin's random answers (default 0).
        seed: u64,
    }
}

impl Respond for Healthy {
    fn action(&self, head: &RequestHead) -> Cow<'static, str> {
        match httpbin::route(head.target()) {
            Some(route) => format!("answered as httpbin's {route}").into(),
            None => Cow::Borrowed("answered 200"),
        }
    }

    fn respond<'a>(&'a self, request: &'a Request<'a>) -> Answer<'a> {
        httpbin::answer(request, self.seed)
            .unwrap_or_else(|| Answer::now(status::plain(200, self.body_bytes())))
    }
}

impl FaultLeaf for Healthy {
    fn shape(&self) -> Option<Shape> {
        Some(Shape::PASS)
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn seed(&self) -> Option<u64> {
        Some(self.seed)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn ok_answers_200_ok_and_httpbins_routes_on_one_kept_alive_connection() {
        let client = Builder::new()
            .read(b"GET /anything HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n")
            .read(b"GET /status/418 HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 418 I'm a teapot\r\ncontent-length: 13\r\n\r\nI'm a teapot\n")
            .build();
        mock::respond(&Healthy::default(), client).await;
    }
}
