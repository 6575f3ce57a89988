//! The status code, headers and body every HTTP-level fault lets its user
//! choose: checking them and building the response.
//!
//! Each fault keeps `code`, `headers` and `body` as its own fields rather than
//! a flattened struct: serde cannot list the keys of a flattened struct, and
//! `outage serve` takes its options from that list.

use std::collections::BTreeMap;

use bytes::Bytes;

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

/// The codes a final response can have: three digits, no 1xx.
const CODES: std::ops::RangeInclusive<i128> = 200..=999;

/// Rejects codes that cannot be a final response.
pub(crate) fn check_code(code: u16) -> Result<(), String> {
    check_code_wide(code.into()).map(drop)
}

fn check_code_wide(code: i128) -> Result<u16, String> {
    match u16::try_from(code) {
        Ok(fits) if CODES.contains(&code) => Ok(fits),
        _ => Err(format!(
            "status code {code} cannot be a final response; use 200 to 999"
        )),
    }
}

/// Deserializes a status code field (`#[serde(deserialize_with = ...)]`):
/// any integer is read, so that `-1` or `70000` are refused with the range
/// a status code can have rather than the range of a `u16`.
pub(crate) fn code<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    struct Code;
    impl serde::de::Visitor<'_> for Code {
        type Value = u16;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a status code from 200 to 999")
        }
        fn visit_i64<E: serde::de::Error>(self, code: i64) -> Result<u16, E> {
            check_code_wide(code.into()).map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, code: u64) -> Result<u16, E> {
            check_code_wide(code.into()).map_err(E::custom)
        }
        /// A number too long for TOML's integers arrives as text: it is out
        /// of range, and is refused as such.
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u16, E> {
            match text.parse::<i128>() {
                Ok(code) if check_code_wide(code).is_err() => {
                    check_code_wide(code).map_err(E::custom)
                }
                _ => Err(E::invalid_type(serde::de::Unexpected::Str(text), &self)),
            }
        }
    }
    deserializer.deserialize_any(Code)
}

/// Rejects header names and values that HTTP cannot carry, and the framing
/// headers, which the server writes from the body itself.
pub(crate) fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in headers {
        let parsed = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header name {name:?} is not a valid HTTP header name"))?;
        // hyper frames the body from its own length: a second length would
        // contradict it on the wire (and trips an assertion in debug builds).
        if [
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
        ]
        .contains(&parsed)
        {
            return Err(format!(
                "header {name:?} is written by the server from the body; remove it \
                 (for a body that disagrees with its length, use `truncate` or `conflicting-length`)"
            ));
        }
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
    match builder.body(Body::whole(body)) {
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

    #[test]
    fn framing_headers_are_refused_because_the_body_sets_them() {
        for name in ["Content-Length", "transfer-encoding"] {
            let framing = [(name.to_owned(), "99".to_owned())].into();
            let error = check(200, &framing).unwrap_err();
            assert_eq!(
                error,
                format!(
                    "header {name:?} is written by the server from the body; remove it \
                     (for a body that disagrees with its length, use `truncate` or `conflicting-length`)"
                )
            );
        }
    }
}
