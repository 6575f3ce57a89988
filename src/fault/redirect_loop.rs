//! `redirect-loop`: every request is redirected back to itself.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fault::{Answer, Fault, FaultLeaf, Handling, Request, Respond, parts, setters};
use crate::request::RequestHead;

/// Answers every request with a redirect whose `Location` is the request's
/// own path and query, so a client that follows redirects goes round until
/// its limit: reqwest stops after 10 (`TooManyRedirects`), requests after 30,
/// `curl -L` at `--max-redirs` (exit 47).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RedirectLoop {
    /// The status code (default 302).
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub code: u16,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// The response body (default empty).
    pub body: String,
}

impl Default for RedirectLoop {
    fn default() -> Self {
        RedirectLoop {
            code: 302,
            headers: BTreeMap::new(),
            body: String::new(),
        }
    }
}

setters! {
    RedirectLoop {
        /// The redirect status code: 301, 302, 303, 307 or 308 (default 302).
        code: u16,
        /// The body of each redirect (default empty).
        body: impl Into<String>,
    }
}

impl RedirectLoop {
    /// Adds the header `name: value` to each redirect (none by default).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// Rejects codes that no client follows as a redirect.
pub(crate) fn check_redirect_code(code: u16) -> Result<(), String> {
    if matches!(code, 301 | 302 | 303 | 307 | 308) {
        Ok(())
    } else {
        Err(format!(
            "redirect code {code} is not one clients follow; use 301, 302, 303, 307 or 308"
        ))
    }
}

impl Respond for RedirectLoop {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!("redirected to itself ({})", self.code).into()
    }

    fn respond<'a>(&'a self, request: &'a Request<'a>) -> Answer<'a> {
        let location = request.head.target().to_owned();
        Answer::now(parts::with_extra(
            self.code,
            &[("location", location)],
            &self.headers,
            self.body.clone(),
        ))
    }
}

impl Fault {
    /// `redirect-loop`: redirects that never end.
    pub fn redirect_loop() -> Fault {
        RedirectLoop::default().into()
    }
}

impl FaultLeaf for RedirectLoop {
    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        parts::check(self.code, &self.headers)?;
        check_redirect_code(self.code)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn only_redirect_codes_are_accepted() {
        assert!(RedirectLoop::default().validate().is_ok());
        let fault = RedirectLoop {
            code: 200,
            ..RedirectLoop::default()
        };
        assert_eq!(
            fault.validate().unwrap_err(),
            "redirect code 200 is not one clients follow; use 301, 302, 303, 307 or 308"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn redirect_loop_sends_each_request_back_to_its_own_path_and_query() {
        let client = Builder::new()
            .read(b"GET /a/b?c=1 HTTP/1.1\r\nhost: test\r\n\r\n")
            .write(b"HTTP/1.1 302 Found\r\nlocation: /a/b?c=1\r\ncontent-length: 0\r\n\r\n")
            .build();
        mock::respond(&RedirectLoop::default(), client).await;
    }
}
