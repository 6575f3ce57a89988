//! `conflicting-length`: two different `Content-Length` headers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave, parts, setters};
use crate::journal::Ending;

/// How many bytes the second `Content-Length` claims beyond the first.
const EXCESS: usize = 10;

/// Answers with two `Content-Length` headers that disagree: the body's true
/// length, then one 10 bytes longer, and closes with a FIN. RFC 9112 makes
/// this an unrecoverable framing error. hyper cannot send it, so it is
/// written on the raw connection. reqwest (hyper) rejects the response, curl
/// exits 8; Python's http.client uses the last value and waits for bytes
/// that never come.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ConflictingLength {
    /// The status code (default 200).
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub code: u16,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// The response body (default `ok`).
    pub body: String,
}

impl Default for ConflictingLength {
    fn default() -> Self {
        ConflictingLength {
            code: 200,
            headers: BTreeMap::new(),
            body: "ok\n".to_owned(),
        }
    }
}

setters! {
    ConflictingLength {
        /// The status code, 200 to 999 (default 200).
        code: u16,
        /// The response body (default `ok`).
        body: impl Into<String>,
    }
}

impl ConflictingLength {
    /// Adds the response header `name: value` (none by default).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

impl ConflictingLength {
    /// The raw response: status line, headers with both lengths, and body.
    fn bytes(&self) -> Vec<u8> {
        let body = self.body.as_bytes();
        let mut headers = vec![("content-type", "text/plain".to_owned())];
        headers.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.clone())));
        headers.push(("content-length", body.len().to_string()));
        headers.push(("content-length", (body.len() + EXCESS).to_string()));
        let mut out = wire::head(self.code, &headers);
        out.extend_from_slice(body);
        out
    }
}

impl Misbehave for ConflictingLength {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let len = self.body.len();
            let action = format!(
                "answered with content-length {len} and {}, then closed",
                len + EXCESS
            );
            exchange.send_and_close(&self.bytes(), action).await
        })
    }
}

impl Fault {
    /// `conflicting-length`: two Content-Length headers that disagree.
    pub fn conflicting_length() -> Fault {
        ConflictingLength::default().into()
    }
}

impl FaultLeaf for ConflictingLength {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        parts::check(self.code, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn both_lengths_are_on_the_wire() {
        let text = String::from_utf8(ConflictingLength::default().bytes()).unwrap();
        assert!(
            text.contains("content-length: 3\r\ncontent-length: 13\r\n"),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\nok\n"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn conflicting_length_sends_its_code_headers_and_both_lengths_then_fins() {
        let fault = ConflictingLength {
            code: 503,
            headers: [("retry-after".to_owned(), "1".to_owned())].into(),
            body: "busy".to_owned(),
        };
        let response = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
                         retry-after: 1\r\ncontent-length: 4\r\ncontent-length: 14\r\n\
                         connection: close\r\n\r\nbusy";
        let client = Builder::new().read(mock::GET).write(response).build();
        let (ending, _) = mock::misbehave(&fault, client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
