//! Raw HTTP/1.1 bytes for the transport faults, which must write responses
//! that no well-behaved HTTP library would produce.

/// A status line and headers, ending with the blank line.
///
/// Every raw response carries `connection: close`: transport faults end the
/// connection, and a client must not try to reuse it for its next request.
pub(crate) fn head(status: u16, headers: &[(&str, String)]) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    out.into_bytes()
}

/// A complete response with a `content-length` body.
pub(crate) fn response(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut headers = headers.to_vec();
    headers.push(("content-length", body.len().to_string()));
    let mut out = head(status, &headers);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_has_status_line_length_and_close() {
        let bytes = response(503, &[("retry-after", "2".into())], b"busy");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 2\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy"
        );
    }
}
