//! `redirect-chain`: a fixed number of redirects, then a final answer.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fault::redirect_loop::check_redirect_code;
use crate::fault::{Answer, Fault, FaultLeaf, Handling, Request, Respond, parts, setters};
use crate::request::RequestHead;

/// The query parameter that carries the hop number from one redirect to the next.
const HOP: &str = "outage-hop";

/// Redirects `hops` times, then answers `final-code` with `final-body`
/// (default `200 ok`). Each redirect keeps the
/// request's path and sets `?outage-hop=N` in its `Location`, so the server
/// needs no state and a route keeps matching along the chain. A chain longer
/// than a client's limit fails like a loop; a shorter one succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct RedirectChain {
    /// How many redirects before the final answer.
    pub hops: u32,
    /// The status code (default 302).
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub code: u16,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// The response body (default empty).
    pub body: String,
    /// The status code of the final answer.
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub final_code: u16,
    /// The body of the final answer.
    pub final_body: String,
}

impl Default for RedirectChain {
    fn default() -> Self {
        RedirectChain {
            hops: 3,
            code: 302,
            headers: BTreeMap::new(),
            body: String::new(),
            final_code: 200,
            final_body: "ok\n".to_owned(),
        }
    }
}

setters! {
    RedirectChain {
        /// How many redirects come before the final answer (default 3).
        hops: u32,
        /// The redirect status code: 301, 302, 303, 307 or 308 (default 302).
        code: u16,
        /// The body of each redirect (default empty).
        body: impl Into<String>,
        /// The status code of the final answer, 200 to 999 (default 200).
        final_code: u16,
        /// The body of the final answer (default `ok`).
        final_body: impl Into<String>,
    }
}

impl RedirectChain {
    /// Adds the header `name: value` to each redirect (none by default).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// The path of `target` and the hop number its query carries (0 when none).
fn hop_of(target: &str) -> (&str, u32) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let hop = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(HOP)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (path, hop)
}

impl Respond for RedirectChain {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!("redirect chain of {} hops", self.hops).into()
    }

    fn respond<'a>(&'a self, request: &'a Request<'a>) -> Answer<'a> {
        let (path, hop) = hop_of(request.head.target());
        let response = if hop >= self.hops {
            let body = self.final_body.clone();
            parts::build(
                self.final_code,
                [("content-type", "text/plain")],
                body.into(),
            )
        } else {
            let location = format!("{path}?{HOP}={}", hop + 1);
            parts::with_extra(
                self.code,
                &[("location", location)],
                &self.headers,
                self.body.clone(),
            )
        };
        Answer::now(response)
    }
}

impl Fault {
    /// `redirect-chain`: a chain of redirects, then an answer.
    pub fn redirect_chain() -> Fault {
        RedirectChain::default().into()
    }
}

impl FaultLeaf for RedirectChain {
    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        parts::check(self.code, &self.headers)?;
        parts::check_code(self.final_code).map_err(|e| format!("final-code: {e}"))?;
        check_redirect_code(self.code)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn the_hop_number_travels_in_the_query() {
        assert_eq!(hop_of("/"), ("/", 0));
        assert_eq!(hop_of("/a/b?x=1&outage-hop=4"), ("/a/b", 4));
        assert_eq!(hop_of("/?outage-hop=junk"), ("/", 0));
    }

    #[tokio::test(start_paused = true)]
    async fn redirect_chain_of_2_hops_redirects_twice_then_answers_200() {
        let fault = RedirectChain {
            hops: 2,
            ..RedirectChain::default()
        };
        let client = Builder::new()
            .read(b"GET /x HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 302 Found\r\nlocation: /x?outage-hop=1\r\ncontent-length: 0\r\n\r\n")
            .read(b"GET /x?outage-hop=1 HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 302 Found\r\nlocation: /x?outage-hop=2\r\ncontent-length: 0\r\n\r\n")
            .read(b"GET /x?outage-hop=2 HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n")
            .build();
        mock::respond(&fault, client).await;
    }
}
