//! The request head a fault server read: request line and headers.

use std::fmt;

/// Largest request head the servers read (request line plus headers).
///
/// A client that sends more is answered `431` and the connection is closed.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most header lines a request head may carry.
const MAX_HEADERS: usize = 128;

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

    pub(crate) fn from_hyper<B>(request: &http::Request<B>) -> Self {
        RequestHead {
            method: request.method().to_string(),
            target: request.uri().to_string(),
            version: format!("{:?}", request.version()),
            headers: request
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
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
pub enum HeadError {
    /// The head grew past [`MAX_HEAD_BYTES`].
    #[error("request head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    /// The bytes are not an HTTP/1 request.
    #[error("not an HTTP request: {0}")]
    Malformed(String),
}

/// Parses a complete request head from the start of `bytes`.
///
/// Returns the head and its length in bytes, `Ok(None)` when more bytes are
/// needed, or an error when the bytes cannot become a request.
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
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
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooLarge),
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
