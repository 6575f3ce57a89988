//! httpbin's redirect routes: `n` redirects, then `/get`.

use crate::fault::httpbin::{Query, count};
use crate::fault::{Body, Request, parts};

/// `/redirect/{n}`: relative redirects, or absolute ones with `?absolute=true`.
pub(super) fn relative_or_absolute(
    request: &Request,
    query: &Query,
    n: &str,
) -> http::Response<Body> {
    if query
        .get("absolute")
        .is_some_and(|a| a.eq_ignore_ascii_case("true"))
    {
        absolute(request, n)
    } else {
        relative(n)
    }
}

/// `/relative-redirect/{n}`: 302 to `/relative-redirect/{n-1}`, and to `/get` from 1.
pub(super) fn relative(n: &str) -> http::Response<Body> {
    hop(n, "", "relative-redirect")
}

/// `/absolute-redirect/{n}`: like the relative one, with `http://{host}` URLs.
pub(super) fn absolute(request: &Request, n: &str) -> http::Response<Body> {
    let host = request.head.header("host").unwrap_or("localhost");
    hop(n, &format!("http://{host}"), "absolute-redirect")
}

fn hop(n: &str, origin: &str, route: &str) -> http::Response<Body> {
    let n = match count(n) {
        Ok(0) => return parts::build(404, [], "redirects must be at least 1\n".into()),
        Ok(n) => n,
        Err(response) => return *response,
    };
    let location = if n == 1 {
        format!("{origin}/get")
    } else {
        format!("{origin}/{route}/{}", n - 1)
    };
    parts::build(302, [("location", location.as_str())], bytes::Bytes::new())
}
