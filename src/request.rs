//! The request head a fault server read: request line and headers.

use std::fmt;

/// Largest request head the servers read (request line plus headers).
///
/// A client that sends more is answered `431` and the connection is closed.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most header lines a request head may carry for the transport faults.
///
/// Browsers send about 20 and proxies add a few; 256 leaves room for tests
/// that pile headers up, while the parser's table stays small (8 KiB).
/// Responders are served by hyper, whose own limit is 100 headers.
pub const MAX_HEADERS: usize = 256;

/// How an HTTP/2 client with prior knowledge opens a connection: the first
/// line of its connection preface.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// A request line and its headers, as read from the client.
///
/// Non-UTF-8 bytes are kept as replacement characters so that any bytes a
/// client sends can be journaled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestHead {
    /// The method, such as `GET`.
    pub method: String,
    /// The request target as sent, such as `/path?query`.
    pub target: String,
    /// The protocol version, such as `HTTP/1.1`.
    pub version: String,
    /// Header names and values in the order received.
    pub headers: Vec<(String, String)>,
}

/// How a request line names `version`, as `http::Version`'s `Debug` does.
fn version_name(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

impl RequestHead {
    /// The request line, such as `GET / HTTP/1.1`.
    pub fn request_line(&self) -> String {
        format!("{} {} {}", self.method, self.target, self.version)
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the client asked for the connection to close after this request.
    pub(crate) fn asks_to_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("");
        let says = |word: &str| {
            connection
                .as_bytes()
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
        };
        says("close") || (self.version == "HTTP/1.0" && !says("keep-alive"))
    }

    /// The size of the head as a client formats it on the wire: the request
    /// line, each `name: value` line, and the blank line that ends it.
    pub(crate) fn wire_len(&self) -> usize {
        let line = self.method.len() + self.target.len() + self.version.len() + 4;
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        line + headers + 2
    }

    /// The header pairs, borrowed.
    pub(crate) fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub(crate) fn from_hyper<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        // An origin-form target ("/path?query") is its path and query.
        let target = match (uri.scheme(), uri.path_and_query()) {
            (None, Some(origin)) => origin.as_str().to_owned(),
            _ => uri.to_string(),
        };
        RequestHead {
            method: request.method().as_str().to_owned(),
            target,
            version: version_name(request.version()).to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

impl RequestHead {
    /// The head of an HTTP/2 request: its path as the target, as in an
    /// HTTP/1 request line, and `:authority` as a `host` header.
    pub(crate) fn from_http2<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        let authority = uri
            .authority()
            .map(|a| ("host".to_owned(), a.as_str().to_owned()));
        let fields = request.headers().iter().map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        });
        let mut headers = Vec::with_capacity(request.headers().len() + 1);
        headers.extend(authority);
        headers.extend(fields);
        RequestHead {
            method: request.method().as_str().to_owned(),
            target: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            version: "HTTP/2".to_owned(),
            headers,
        }
    }
}

impl fmt::Display for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.request_line())
    }
}

/// Why a request head could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// The head grew past [`MAX_HEAD_BYTES`].
    #[error("request head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    /// The head carries more than [`MAX_HEADERS`] headers.
    #[error("request head has more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    /// The client opened with the HTTP/2 connection preface: it speaks
    /// HTTP/2 with prior knowledge, which the servers do not serve.
    #[error("HTTP/2 prior knowledge (the `PRI * HTTP/2.0` preface) is not served")]
    Http2Preface,
    /// The bytes are not an HTTP/1 request.
    #[error("not an HTTP request: {0}")]
    Malformed(String),
}

/// Parses a complete request head from the start of `bytes`.
///
/// Returns the head and its length in bytes, `Ok(None)` when more bytes are
/// needed, or an error when the bytes cannot become a request.
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    if bytes.starts_with(HTTP2_PREFACE) {
        return Err(HeadError::Http2Preface);
    }
    if !bytes.is_empty() && HTTP2_PREFACE.starts_with(bytes) {
        // httparse would reject `HTTP/2` before the line is complete.
        return Ok(None);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) if len > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        Ok(httparse::Status::Complete(len)) => {
            let head = RequestHead {
                method: request.method.unwrap_or_default().to_owned(),
                target: request.path.unwrap_or_default().to_owned(),
                version: format!("HTTP/1.{}", request.version.unwrap_or(1)),
                headers: request
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooManyHeaders),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_complete_head_and_reports_its_length() {
        let bytes = b"GET /a?b HTTP/1.1\r\nHost: x\r\n\r\nBODY";
        let (head, len) = parse(bytes).unwrap().unwrap();
        assert_eq!(head.request_line(), "GET /a?b HTTP/1.1");
        assert_eq!(head.header("host"), Some("x"));
        assert_eq!(&bytes[len..], b"BODY");
    }

    #[test]
    fn asks_for_more_bytes_on_a_partial_head() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHo"), Ok(None));
    }

    #[test]
    fn rejects_binary_bytes_as_malformed() {
        assert!(matches!(
            parse(b"\x00\xff\x13\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn reads_a_small_head_with_200_headers() {
        let mut bytes = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            bytes.extend(format!("x-{i}: {i}\r\n").as_bytes());
        }
        bytes.extend(b"\r\n");
        let (head, _) = parse(&bytes).unwrap().unwrap();
        assert_eq!(head.headers.len(), 200);
    }

    #[test]
    fn names_the_header_count_when_there_are_too_many_headers() {
        let mut bytes = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            bytes.extend(format!("x-{i}: {i}\r\n").as_bytes());
        }
        bytes.extend(b"\r\n");
        let error = parse(&bytes).unwrap_err();
        assert_eq!(error, HeadError::TooManyHeaders);
        assert_eq!(error.to_string(), "request head has more than 256 headers");
    }

    #[test]
    fn recognises_the_http2_preface() {
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        assert_eq!(parse(preface), Err(HeadError::Http2Preface));
        assert_eq!(parse(&preface[..13]), Ok(None));
    }

    #[test]
    fn rejects_a_head_past_the_size_limit() {
        let mut bytes = b"GET / HTTP/1.1\r\nX: ".to_vec();
        bytes.resize(MAX_HEAD_BYTES + 10, b'a');
        assert_eq!(parse(&bytes), Err(HeadError::TooLarge));
    }

    #[test]
    fn rejects_a_complete_head_past_the_size_limit_read_at_once() {
        let mut bytes = b"GET / HTTP/1.1\r\nX: ".to_vec();
        bytes.resize(MAX_HEAD_BYTES + 10, b'a');
        bytes.extend(b"\r\n\r\n");
        assert_eq!(parse(&bytes), Err(HeadError::TooLarge));
    }
}
