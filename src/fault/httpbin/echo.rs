//! httpbin's echo routes: the request as JSON.

use std::io::Write;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use crate::fault::httpbin::{Query, bad_request, count};
use crate::fault::{Body, BoxFuture, Request, parts};

/// The longest `/delay/{n}` waits, as on httpbin.
const MAX_DELAY: f64 = 10.0;

/// The most lines `/stream/{n}` sends, as on httpbin.
const MAX_LINES: u64 = 100;

/// `/get`: url, args, headers and origin.
pub(super) fn get(request: &Request, query: &Query) -> http::Response<Body> {
    json_response(&described(request, query))
}

/// `/headers`: the request headers.
pub(super) fn headers(request: &Request) -> http::Response<Body> {
    json_response(&json!({ "headers": headers_of(request) }))
}

/// `/gzip`: origin, headers and method, gzip-compressed, with `"gzipped": true`.
pub(super) fn gzip(request: &Request) -> http::Response<Body> {
    let document = json!({
        "gzipped": true,
        "headers": headers_of(request),
        "method": request.head.method(),
        "origin": request.peer.ip().to_string(),
    });
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let compressed = encoder
        .write_all(&pretty(&document))
        .and_then(|()| encoder.finish())
        .expect("gzip into memory cannot fail");
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    parts::build(200, headers, compressed.into())
}

/// `/stream/{n}`: `n` (at most 100) JSON lines like `/get` with an `id`, chunked.
pub(super) fn stream(request: &Request, query: &Query, n: &str) -> http::Response<Body> {
    let n = match count(n) {
        Ok(n) => n.min(MAX_LINES),
        Err(response) => return *response,
    };
    let mut document = described(request, query);
    // Each line is written when hyper asks for it: a request with a large head
    // makes large lines, and a hundred of them are never held at once.
    let lines = (0..n).map(move |id| {
        document["id"] = json!(id);
        let mut line = serde_json::to_vec(&document).expect("JSON values always serialize");
        line.push(b'\n');
        line.into()
    });
    let mut response = http::Response::new(Body::boxed(super::bytes::Chunks::new(lines)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// `/delay/{n}`: waits `n` seconds (at most 10, fractions allowed) on tokio's
/// clock, then answers like `/get`.
pub(super) fn delay<'a>(
    request: &'a Request<'a>,
    query: Query,
    n: &str,
) -> BoxFuture<'a, http::Response<Body>> {
    let seconds = n.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
    Box::pin(async move {
        let Some(seconds) = seconds else {
            return bad_request("the delay must be a number of seconds");
        };
        crate::timer::sleep(Duration::from_secs_f64(seconds.min(MAX_DELAY))).await;
        get(request, &query)
    })
}

/// httpbin's description of a request: url, args, headers and origin.
fn described(request: &Request, query: &Query) -> Value {
    let args: Map<String, Value> = query
        .args
        .iter()
        .map(|(key, values)| {
            let value = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (key.clone(), value)
        })
        .collect();
    let host = request.head.header("host").unwrap_or("localhost");
    json!({
        "args": args,
        "headers": headers_of(request),
        "origin": request.peer.ip().to_string(),
        "url": format!("http://{host}{}", request.head.target()),
    })
}

/// The request headers with httpbin's capitalisation (`User-Agent`).
fn headers_of(request: &Request) -> Map<String, Value> {
    request
        .head
        .headers()
        .map(|(name, value)| (title_case(name), json!(value)))
        .collect()
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn pretty(document: &Value) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(document).expect("JSON values always serialize");
    text.push(b'\n');
    text
}

fn json_response(document: &Value) -> http::Response<Body> {
    parts::build(
        200,
        [("content-type", "application/json")],
        pretty(document).into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_capitalised_like_httpbin() {
        assert_eq!(title_case("user-agent"), "User-Agent");
        assert_eq!(title_case("x-REQUEST-id"), "X-Request-Id");
    }
}
