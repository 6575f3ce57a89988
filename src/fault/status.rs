//! `status`: any status code, headers and body.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;

use crate::fault::{Body, BoxFuture, Respond};
use crate::request::RequestHead;

/// Answers with any status code, headers and body, served by hyper: a 500, a
/// 503 with `Retry-After`, a 429. Clients see a response, not an error, until
/// they check the status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Status {
    /// The status code, 200 to 999.
    pub code: u16,
    /// Extra response headers, such as `{ Retry-After = "2" }`.
    pub headers: BTreeMap<String, String>,
    /// The response body.
    pub body: String,
}

impl Default for Status {
    fn default() -> Self {
        Status::code(500)
    }
}

impl Status {
    /// A response with `code`, no extra headers and an empty body.
    pub fn code(code: u16) -> Self {
        Status {
            code,
            headers: BTreeMap::new(),
            body: String::new(),
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(200..=999).contains(&self.code) {
            return Err(format!(
                "status code {} cannot be a final response; use 200 to 999",
                self.code
            ));
        }
        for (name, value) in &self.headers {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("header name {name:?} is not a valid HTTP header name"))?;
            http::HeaderValue::from_str(value).map_err(|_| {
                format!("header {name:?} has a value {value:?} that HTTP cannot carry")
            })?;
        }
        Ok(())
    }
}

/// A plain-text response with `code` and `body`.
pub(crate) fn plain(code: u16, body: String) -> http::Response<Body> {
    response(code, &BTreeMap::new(), body)
}

fn response(code: u16, headers: &BTreeMap<String, String>, body: String) -> http::Response<Body> {
    let mut builder = http::Response::builder().status(code);
    if !body.is_empty() {
        builder = builder.header("content-type", "text/plain");
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let body = Full::new(Bytes::from(body)).boxed();
    match builder.body(body) {
        Ok(response) => response,
        // `validate` rejects every code and header the builder could refuse,
        // and servers only start with validated faults.
        Err(error) => unreachable!("invalid response escaped validation: {error}"),
    }
}

impl Respond for Status {
    fn action(&self) -> String {
        format!("answered {}", self.code)
    }

    fn respond<'a>(&'a self, _request: &'a RequestHead) -> BoxFuture<'a, http::Response<Body>> {
        Box::pin(async move { response(self.code, &self.headers, self.body.clone()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_outside_final_responses_and_bad_headers_are_rejected() {
        assert!(Status::code(101).validate().is_err());
        assert!(Status::code(1000).validate().is_err());
        assert!(Status::code(599).validate().is_ok());
        let bad = Status::code(503)
            .header("Retry After", "2")
            .validate()
            .unwrap_err();
        assert_eq!(
            bad,
            "header name \"Retry After\" is not a valid HTTP header name"
        );
    }
}
