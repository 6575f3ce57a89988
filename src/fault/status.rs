//! `status`: any status code, headers and body.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::fault::{Answer, Body, FaultLeaf, Handling, Request, Respond, bulk, parts};
use crate::request::RequestHead;

/// Answers with any status code, headers and body, served by hyper: a 500, a
/// 503 with `Retry-After`, a 429. Clients see a response, not an error, until
/// they check the status.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use outage::FaultServer;
/// use outage::fault::Status;
///
/// let fault = Status::code(503)
///     .retry_after(Duration::from_secs(2))
///     .header("x-cause", "maintenance")
///     .body("back soon\n");
/// let server = FaultServer::start(fault).await?;
/// let response = reqwest::get(server.url()).await?;
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "2");
/// assert_eq!(response.text().await?, "back soon\n");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct Status {
    /// The status code, 200 to 999.
    #[serde(deserialize_with = "crate::fault::parts::code")]
    pub code: u16,
    /// Extra response headers, such as `{ Retry-After = "2" }`.
    pub headers: BTreeMap<String, String>,
    /// The response body.
    pub body: String,
    /// Sends `Retry-After` as a number of seconds (whole seconds, rounded
    /// up), at most 10 years.
    #[serde(with = "crate::duration::text")]
    pub retry_after: Option<Duration>,
    /// Sends `Retry-After` as an HTTP date this long after the response is
    /// made. An HTTP date has one-second resolution; it is rounded up, so a
    /// client that honours it waits at least this long and at most one
    /// second more. At most 10 years.
    #[serde(with = "crate::duration::text")]
    pub retry_after_date: Option<Duration>,
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
            retry_after: None,
            retry_after_date: None,
        }
    }

    /// Sends `Retry-After: N`, in whole seconds rounded up, at most 10 years (default none).
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Sends `Retry-After` as the HTTP date `wait` after each response is
    /// made, rounded up to a whole second, at most 10 years (default none).
    pub fn retry_after_date(mut self, wait: Duration) -> Self {
        self.retry_after_date = Some(wait);
        self
    }

    /// Adds the response header `name: value` (none by default).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The response body (default empty).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The `Retry-After` value to send now, when one is asked for.
    fn retry_after_value(&self) -> Option<String> {
        if let Some(wait) = self.retry_after {
            return Some(whole_seconds_up(wait).to_string());
        }
        let wait = self.retry_after_date?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        // Validation keeps the wait to 10 years; the clamp keeps a fault that
        // skipped it from asking for a date that HTTP cannot write.
        let at = whole_seconds_up(now.saturating_add(wait)).min(LAST_HTTP_DATE);
        Some(httpdate::fmt_http_date(
            SystemTime::UNIX_EPOCH + Duration::from_secs(at),
        ))
    }
}

/// The last second an HTTP date can name, 9999-12-31 23:59:59 UTC, in
/// seconds since the Unix epoch.
const LAST_HTTP_DATE: u64 = 253_402_300_799;

fn whole_seconds_up(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// A plain-text response with `code` and `body`.
pub(crate) fn plain(code: u16, body: impl Into<Bytes>) -> http::Response<Body> {
    let body = body.into();
    let Ok(status) = http::StatusCode::from_u16(code) else {
        return response(code, &BTreeMap::new(), body);
    };
    // Built directly: the healthy server's answer costs no header parsing.
    let plain = (!body.is_empty()).then_some(http::HeaderValue::from_static("text/plain"));
    let mut response = http::Response::new(Body::whole(body));
    *response.status_mut() = status;
    if let Some(plain) = plain {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, plain);
    }
    response
}

fn response(
    code: u16,
    headers: &BTreeMap<String, String>,
    body: impl Into<Bytes>,
) -> http::Response<Body> {
    let body = body.into();
    let content_type = (!body.is_empty()).then_some(("content-type", "text/plain"));
    let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    parts::build(code, content_type.into_iter().chain(headers), body)
}

impl Respond for Status {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!("answered {}", self.code).into()
    }

    fn respond<'a>(&'a self, _request: &'a Request<'a>) -> Answer<'a> {
        let mut headers = self.headers.clone();
        if let Some(value) = self.retry_after_value() {
            headers.insert("retry-after".to_owned(), value);
        }
        Answer::now(response(self.code, &headers, self.body.clone()))
    }
}

impl FaultLeaf for Status {
    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        parts::check_code(self.code)?;
        parts::check_headers(&self.headers)?;
        for (key, wait) in [
            ("retry-after", self.retry_after),
            ("retry-after-date", self.retry_after_date),
        ] {
            if let Some(wait) = wait {
                bulk::check_wait("status", key, wait)?;
            }
        }
        let header = self
            .headers
            .keys()
            .any(|name| name.eq_ignore_ascii_case("retry-after"));
        match (self.retry_after, self.retry_after_date) {
            (Some(_), Some(_)) => Err(
                "give either `retry-after` (seconds) or `retry-after-date` (an HTTP date), not both"
                    .to_owned(),
            ),
            (Some(_), None) | (None, Some(_)) if header => Err(
                "a Retry-After header is given twice, in `headers` and in `retry-after`; keep one"
                    .to_owned(),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

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

    #[test]
    fn retry_after_is_whole_seconds_or_a_date_rounded_up() {
        let seconds = Status::code(503).retry_after(Duration::from_millis(1500));
        assert_eq!(seconds.retry_after_value().as_deref(), Some("2"));
        let date = Status::code(503).retry_after_date(Duration::from_secs(3));
        let before = SystemTime::now();
        let value = date.retry_after_value().unwrap();
        let at = httpdate::parse_http_date(&value).unwrap();
        let ahead = at.duration_since(before).unwrap();
        // Rounded up to a whole second: never earlier than asked, under a second later.
        assert!(
            ahead >= Duration::from_secs(3) && ahead < Duration::from_millis(4100),
            "{ahead:?}"
        );
    }

    #[test]
    fn a_retry_after_past_ten_years_is_refused_and_never_panics() {
        let far = Duration::from_secs(1_000_000_000 * 31_557_600);
        for fault in [
            Status::code(503).retry_after_date(far),
            Status::code(503).retry_after(far),
        ] {
            let error = fault.validate().unwrap_err();
            assert!(error.ends_with("is too long; use 0s to 10years"), "{error}");
            assert!(fault.retry_after_value().is_some());
        }
        let most = Status::code(503).retry_after_date(Duration::MAX);
        assert_eq!(
            most.retry_after_value().as_deref(),
            Some("Fri, 31 Dec 9999 23:59:59 GMT")
        );
        assert!(
            Status::code(503)
                .retry_after_date(bulk::MAX_WAIT)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn retry_after_is_given_once() {
        let both = Status::code(503)
            .retry_after(Duration::from_secs(1))
            .retry_after_date(Duration::from_secs(1));
        assert!(both.validate().unwrap_err().starts_with("give either"));
        let twice = Status::code(503)
            .header("Retry-After", "1")
            .retry_after(Duration::from_secs(1));
        assert!(twice.validate().unwrap_err().contains("given twice"));
    }

    #[tokio::test(start_paused = true)]
    async fn status_503_answers_its_retry_after_headers_and_body() {
        let fault = Status {
            body: "busy\n".to_owned(),
            ..Status::code(503)
                .header("x-outage", "1")
                .retry_after(Duration::from_millis(1500))
        };
        let client = Builder::new()
            .read(mock::GET)
            .write(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
                  retry-after: 2\r\nx-outage: 1\r\ncontent-length: 5\r\n\r\nbusy\n",
            )
            .build();
        mock::respond(&fault, client).await;
    }
}
