//! The status code, headers and body every HTTP-level fault lets its user
//! choose: checking them and building the response.
//!
//! Each fault keeps `code`, `headers` and `body` as its own fields rather than
//! a flattened struct: serde cannot list the keys of a flattened struct, and
//! `outage serve` takes its options from that list.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::fault::Body;

/// Checks a fault's status code and extra headers.
pub(crate) fn check(code: u16, headers: &BTreeMap<String, String>) -> Result<(), String> {
    check_code(code)?;
    check_headers(headers)
}

/// A response with `code`, the fault's `own` headers, then the user's
/// `extra` headers, and `body`.
pub(crate) fn with_extra(
    code: u16,
    own: &[(&str, String)],
    extra: &BTreeMap<String, String>,
    body: impl Into<Bytes>,
) -> http::Response<Body> {
    let own = own.iter().map(|(n, v)| (*n, v.as_str()));
    let extra = extra.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    build(code, own.chain(extra), body.into())
}

/// Rejects codes that cannot be a final response.
pub(crate) fn check_code(code: u16) -> Result<(), String> {
    if (200..=999).contains(&code) {
        Ok(())
    } else {
        Err(format!(
            "status code {code} cannot be a final response; use 200 to 999"
        ))
    }
}

/// Rejects header names and values that HTTP cannot carry.
pub(crate) fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in headers {
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header name {name:?} is not a valid HTTP header name"))?;
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("header {name:?} has a value {value:?} that HTTP cannot carry"))?;
    }
    Ok(())
}

/// A response from checked parts.
pub(crate) fn build<'a>(
    code: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Bytes,
) -> http::Response<Body> {
    let mut builder = http::Response::builder().status(code);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    match builder.body(Full::new(body).boxed()) {
        Ok(response) => response,
        // `validate` rejects every code and header the builder could refuse,
        // and servers only start with validated faults.
        Err(error) => unreachable!("invalid response escaped validation: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_codes_and_headers_are_rejected() {
        assert!(
            check(42, &BTreeMap::new())
                .unwrap_err()
                .contains("status code 42")
        );
        let bad = [("Bad Name".to_owned(), "v".to_owned())].into();
        assert!(check(200, &bad).unwrap_err().contains("\"Bad Name\""));
    }
}
