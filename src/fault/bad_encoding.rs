//! `bad-encoding`: a body labelled gzip that is not gzip.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fault::{Answer, Fault, FaultLeaf, Handling, Request, Respond, parts, setters};
use crate::request::RequestHead;

/// Answers with `Content-Encoding: gzip` on a plain-text body. A client that
/// decompresses fails while reading the body: reqwest with its `gzip` feature
/// reports a decode error, requests raises `ContentDecodingError`, and
/// `curl --compressed` exits 61.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct BadEncoding {
    /// The status code (default 200).
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub code: u16,
    /// Extra response headers.
    pub headers: BTreeMap<String, String>,
    /// The body that is not gzip (default `this body is not gzip`).
    pub body: String,
    /// The encoding the body claims (default `gzip`).
    pub encoding: String,
}

impl Default for BadEncoding {
    fn default() -> Self {
        BadEncoding {
            code: 200,
            headers: BTreeMap::new(),
            body: "this body is not gzip\n".to_owned(),
            encoding: "gzip".to_owned(),
        }
    }
}

setters! {
    BadEncoding {
        /// The status code, 200 to 999 (default 200).
        code: u16,
        /// The body that is not gzip (default `this body is not gzip`).
        body: impl Into<String>,
        /// The encoding the body claims, as the `Content-Encoding` value (default `gzip`).
        encoding: impl Into<String>,
    }
}

impl BadEncoding {
    /// Adds the response header `name: value` (none by default).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

impl Respond for BadEncoding {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!(
            "answered {} with a body labelled {} that is not",
            self.code, self.encoding
        )
        .into()
    }

    fn respond<'a>(&'a self, _request: &'a Request<'a>) -> Answer<'a> {
        let response = parts::with_extra(
            self.code,
            &[
                ("content-type", "text/plain".to_owned()),
                ("content-encoding", self.encoding.clone()),
            ],
            &self.headers,
            self.body.clone(),
        );
        Answer::now(response)
    }
}

impl Fault {
    /// `bad-encoding`: a body that does not match its Content-Encoding.
    pub fn bad_encoding() -> Fault {
        BadEncoding::default().into()
    }
}

impl FaultLeaf for BadEncoding {
    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        parts::check(self.code, &self.headers)?;
        http::HeaderValue::from_str(&self.encoding)
            .map(drop)
            .map_err(|_| format!("encoding {:?} cannot be a header value", self.encoding))
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn bad_encoding_labels_a_plain_body_gzip() {
        let client = Builder::new()
            .read(mock::GET)
            .write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-encoding: gzip\r\n\
                  content-length: 22\r\n\r\nthis body is not gzip\n",
            )
            .build();
        mock::respond(&BadEncoding::default(), client).await;
    }
}
