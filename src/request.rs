//! The request head a fault server read: request line and headers.

use std::fmt;
use std::sync::Arc;

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
/// The head is kept as one block of text, as a client formats it on the wire
/// (`GET / HTTP/1.1\r\nhost: x\r\n`...), shared by every clone: reading it
/// costs one allocation, and journaling it none. Non-UTF-8 bytes are kept as
/// replacement characters so that any bytes a client sends can be journaled.
///
/// In JSON it is an object with `method`, `target`, `version` and `headers`
/// (`[name, value]` pairs in the order received).
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The request line and each header line, each ended by `\r\n`; no
    /// part holds a line end, nor a header name a colon, as the parsers
    /// that read them allow none.
    text: Arc<str>,
    /// Where the method, the target and the request line end in `text`.
    method_end: u32,
    target_end: u32,
    line_end: u32,
    /// Whether the client asked for the connection to close after this
    /// request, worked out once as the head was written.
    asks_to_close: bool,
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
    /// The method, such as `GET`.
    pub fn method(&self) -> &str {
        &self.text[..self.method_end as usize]
    }

    /// The request target as sent, such as `/path?query`.
    pub fn target(&self) -> &str {
        &self.text[self.method_end as usize + 1..self.target_end as usize]
    }

    /// The protocol version, such as `HTTP/1.1`.
    pub fn version(&self) -> &str {
        &self.text[self.target_end as usize + 1..self.line_end as usize]
    }

    /// The request line, such as `GET / HTTP/1.1`.
    pub fn request_line(&self) -> &str {
        &self.text[..self.line_end as usize]
    }

    /// Header names and values in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        // Each header is "name: value\r\n"; found byte by byte, which for
        // lines this short is quicker than a searcher.
        let mut rest = &self.text[self.line_end as usize + 2..];
        std::iter::from_fn(move || {
            let end = rest.bytes().position(|b| b == b'\r')?;
            let line = &rest[..end];
            rest = &rest[end + 2..];
            let colon = line.bytes().position(|b| b == b':').unwrap_or(line.len());
            let value = line.get(colon + 2..).unwrap_or_default();
            Some((&line[..colon], value))
        })
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True when the client asked for the connection to close after this request.
    pub(crate) fn asks_to_close(&self) -> bool {
        self.asks_to_close
    }

    /// The size of the head as a client formats it on the wire: the request
    /// line, each `name: value` line, and the blank line that ends it.
    pub(crate) fn wire_len(&self) -> usize {
        self.text.len() + 2
    }

    /// The memory the head holds: its text and the block that shares it.
    pub(crate) fn footprint(&self) -> usize {
        self.text.len() + 2 * std::mem::size_of::<usize>()
    }

    pub(crate) fn from_hyper<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        let mut text = HeadText::new();
        // An origin-form target ("/path?query") is its path and query.
        match (uri.scheme(), uri.path_and_query()) {
            (None, Some(origin)) => text.line(request.method().as_str(), origin.as_str()),
            _ => text.line(request.method().as_str(), &uri.to_string()),
        }
        text.version(version_name(request.version()));
        for (name, value) in request.headers() {
            text.header(name.as_str(), value.as_bytes());
        }
        text.finish()
    }

    /// The head of an HTTP/2 request: its path as the target, as in an
    /// HTTP/1 request line, and `:authority` as a `host` header.
    pub(crate) fn from_http2<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        let mut text = HeadText::new();
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        text.line(request.method().as_str(), target);
        text.version("HTTP/2");
        if let Some(authority) = uri.authority() {
            text.header("host", authority.as_str().as_bytes());
        }
        for (name, value) in request.headers() {
            text.header(name.as_str(), value.as_bytes());
        }
        text.finish()
    }

    /// A head from its parts, as a test or a journal's shortened copy makes it.
    pub(crate) fn from_parts<'a>(
        method: &str,
        target: &str,
        version: &str,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut text = HeadText::new();
        text.line(method, target);
        text.version(version);
        for (name, value) in headers {
            text.header(name, value.as_bytes());
        }
        text.finish()
    }
}

thread_local! {
    /// Where each thread writes a head before sharing it, so that a head
    /// costs one allocation, the shared block, and not two.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Most bytes the scratch text keeps between heads; a larger head's room is
/// given back.
const SCRATCH_KEPT: usize = 16 * 1024;

/// A head's text as it is written, in the thread's scratch buffer, where
/// its request line's parts end, and where the value of its first
/// `connection` header lies.
struct HeadText {
    text: String,
    method_end: u32,
    target_end: u32,
    line_end: u32,
    connection: Option<(usize, usize)>,
}

impl HeadText {
    fn new() -> HeadText {
        let mut text = SCRATCH.with_borrow_mut(std::mem::take);
        text.clear();
        HeadText {
            text,
            method_end: 0,
            target_end: 0,
            line_end: 0,
            connection: None,
        }
    }

    fn line(&mut self, method: &str, target: &str) {
        self.text.push_str(method);
        self.method_end = self.end();
        self.text.push(' ');
        self.text.push_str(target);
        self.target_end = self.end();
        self.text.push(' ');
    }

    /// Where the text ends now; a head is far shorter than 4 GiB.
    fn end(&self) -> u32 {
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    fn version(&mut self, version: &str) {
        self.text.push_str(version);
        self.line_end = self.end();
        self.text.push_str("\r\n");
    }

    /// Adds `name: value`, with each byte of `value` that is not UTF-8 as a
    /// replacement character.
    fn header(&mut self, name: &str, value: &[u8]) {
        self.text.push_str(name);
        self.text.push_str(": ");
        let start = self.text.len();
        match std::str::from_utf8(value) {
            Ok(value) => self.text.push_str(value),
            Err(_) => {
                for chunk in value.utf8_chunks() {
                    self.text.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        self.text.push(char::REPLACEMENT_CHARACTER);
                    }
                }
            }
        }
        if self.connection.is_none() && name.eq_ignore_ascii_case("connection") {
            self.connection = Some((start, self.text.len()));
        }
        self.text.push_str("\r\n");
    }

    /// True when the head asks for the connection to close after its
    /// request: `connection: close`, or HTTP/1.0 without `keep-alive`.
    fn asks_to_close(&self) -> bool {
        let connection = self
            .connection
            .map_or("", |(start, end)| &self.text[start..end]);
        let says = |word: &str| {
            connection
                .as_bytes()
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
        };
        let version = &self.text[self.target_end as usize + 1..self.line_end as usize];
        says("close") || (version == "HTTP/1.0" && !says("keep-alive"))
    }

    fn finish(mut self) -> RequestHead {
        let head = RequestHead {
            text: Arc::from(self.text.as_str()),
            method_end: self.method_end,
            target_end: self.target_end,
            line_end: self.line_end,
            asks_to_close: self.asks_to_close(),
        };
        let mut text = std::mem::take(&mut self.text);
        if text.capacity() <= SCRATCH_KEPT {
            SCRATCH.with_borrow_mut(|scratch| *scratch = std::mem::take(&mut text));
        }
        head
    }
}

impl fmt::Display for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.request_line())
    }
}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version())
            .field("headers", &self.headers().collect::<Vec<_>>())
            .finish()
    }
}

impl serde::Serialize for RequestHead {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let headers: Vec<(&str, &str)> = self.headers().collect();
        let mut head = serializer.serialize_struct("RequestHead", 4)?;
        head.serialize_field("method", self.method())?;
        head.serialize_field("target", self.target())?;
        head.serialize_field("version", self.version())?;
        head.serialize_field("headers", &headers)?;
        head.end()
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
            let mut text = HeadText::new();
            text.line(
                request.method.unwrap_or_default(),
                request.path.unwrap_or_default(),
            );
            text.version(match request.version {
                Some(0) => "HTTP/1.0",
                _ => "HTTP/1.1",
            });
            for header in request.headers.iter() {
                text.header(header.name, header.value);
            }
            Ok(Some((text.finish(), len)))
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
    fn reads_back_each_part_of_the_head_as_received() {
        let bytes =
            b"POST /a%20b?c=d:e HTTP/1.0\r\nHost: x:1\r\nX-Empty: \r\nX-Colon: a: b\r\n\r\n";
        let (head, len) = parse(bytes).unwrap().unwrap();
        assert_eq!(head.method(), "POST");
        assert_eq!(head.target(), "/a%20b?c=d:e");
        assert_eq!(head.version(), "HTTP/1.0");
        let headers: Vec<_> = head.headers().collect();
        assert_eq!(
            headers,
            [("Host", "x:1"), ("X-Empty", ""), ("X-Colon", "a: b")]
        );
        assert_eq!(head.wire_len(), len);
    }

    #[test]
    fn knows_when_the_client_asks_to_close() {
        let asks = |bytes: &[u8]| parse(bytes).unwrap().unwrap().0.asks_to_close();
        assert!(!asks(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(asks(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
        assert!(asks(b"GET / HTTP/1.1\r\nconnection: te, close\r\n\r\n"));
        assert!(asks(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"));
        assert!(!asks(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!asks(
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\nConnection: close\r\n\r\n"
        ));
    }

    #[test]
    fn keeps_bytes_that_are_not_utf8_as_replacement_characters() {
        let (head, _) = parse(b"GET / HTTP/1.1\r\nX: a\xffb\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.header("x"), Some("a\u{fffd}b"));
    }

    #[test]
    fn journals_as_an_object_of_its_parts() {
        let head = RequestHead::from_parts("GET", "/x", "HTTP/1.1", [("host", "h")]);
        assert_eq!(
            serde_json::to_value(&head).unwrap(),
            serde_json::json!({
                "method": "GET",
                "target": "/x",
                "version": "HTTP/1.1",
                "headers": [["host", "h"]],
            })
        );
        assert_eq!(head.to_string(), "GET /x HTTP/1.1");
    }

    #[test]
    fn an_http2_head_names_its_authority_as_host() {
        let request = http::Request::builder()
            .method("PUT")
            .uri("https://example.invalid:8443/p?q")
            .header("x-a", "1")
            .body(())
            .unwrap();
        let head = RequestHead::from_http2(&request);
        assert_eq!(head.request_line(), "PUT /p?q HTTP/2");
        let headers: Vec<_> = head.headers().collect();
        assert_eq!(headers, [("host", "example.invalid:8443"), ("x-a", "1")]);
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
        assert_eq!(head.headers().count(), 200);
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
