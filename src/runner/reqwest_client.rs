//! The built-in client: reqwest in process, with optional retries.

use std::time::{Duration, SystemTime};

use crate::classify;
use crate::dns::Names;
use crate::runner::{ClientError, Outcome};
use crate::scenario::{ReqwestSettings, RetryPolicy};

/// One failed attempt: the error, and how long the server asked to wait.
struct Failure {
    error: ClientError,
    retry_after: Option<Duration>,
}

/// Requests `url` as the settings say, retrying as the policy allows. When
/// the server speaks TLS, its CA (`ca_pem`) is the only one trusted; with
/// `names`, host names are looked up in that table instead of the system's.
/// When the server speaks HTTP/2, so does the client: by ALPN over TLS,
/// with prior knowledge without it.
pub(crate) async fn run(
    settings: &ReqwestSettings,
    url: &str,
    ca_pem: Option<&str>,
    names: Option<Names>,
    http2: bool,
) -> Outcome {
    let client = match build(settings, ca_pem, names, http2 && ca_pem.is_none()) {
        Ok(client) => client,
        Err(error) => return Outcome::Error(describe(&error)),
    };
    let url = match &settings.path {
        Some(path) => format!("{}{path}", url.trim_end_matches('/')),
        None => url.to_owned(),
    };
    let mut retries = 0;
    loop {
        let failure = match attempt(&client, &url, settings.error_for_status).await {
            Ok(status) => return Outcome::Response { status },
            Err(failure) => failure,
        };
        let Some(wait) = settings
            .retry
            .as_ref()
            .and_then(|policy| retry_wait(policy, &failure, retries))
        else {
            return Outcome::Error(failure.error);
        };
        tokio::time::sleep(wait).await;
        retries += 1;
    }
}

fn build(
    settings: &ReqwestSettings,
    ca_pem: Option<&str>,
    names: Option<Names>,
    prior_knowledge: bool,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().no_proxy();
    if prior_knowledge {
        builder = builder.http2_prior_knowledge();
    }
    if let Some(pem) = ca_pem {
        // Only this CA: the system's trust store plays no part, so what the
        // client meets is the fault's certificate and nothing else.
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes())?]);
    }
    if let Some(names) = names {
        builder = builder.dns_resolver(names);
    }
    if let Some(t) = settings.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    if let Some(t) = settings.read_timeout {
        builder = builder.read_timeout(t);
    }
    if let Some(t) = settings.total_timeout {
        builder = builder.timeout(t);
    }
    builder.build()
}

/// The wait before the next retry, or `None` when the policy gives up.
fn retry_wait(policy: &RetryPolicy, failure: &Failure, retries: u32) -> Option<Duration> {
    let class = failure.error.class?;
    if retries >= policy.times || !policy.on.contains(&class) {
        return None;
    }
    let backoff = policy.backoff_for(retries);
    Some(match failure.retry_after {
        Some(asked) if policy.respect_retry_after => asked,
        _ => backoff,
    })
}

async fn attempt(
    client: &reqwest::Client,
    url: &str,
    error_for_status: bool,
) -> Result<u16, Failure> {
    let response = client.get(url).send().await.map_err(|e| Failure {
        error: describe(&e),
        retry_after: None,
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| retry_after(v.to_str().ok()?));
    if error_for_status && (status.is_client_error() || status.is_server_error()) {
        let error = response
            .error_for_status()
            .expect_err("an error status makes error_for_status fail");
        return Err(Failure {
            error: describe(&error),
            retry_after,
        });
    }
    match response.bytes().await {
        Ok(_) => Ok(status.as_u16()),
        Err(error) => {
            let mut error = describe(&error);
            error.status = Some(status.as_u16());
            Err(Failure {
                error,
                retry_after: None,
            })
        }
    }
}

/// `Retry-After` as seconds, or as an HTTP date measured from now.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A reqwest error in the probe protocol's terms: `native` is `reqwest::Error`
/// and `is_a` lists the predicates that hold, such as `reqwest::Error::is_timeout`.
fn describe(error: &reqwest::Error) -> ClientError {
    let predicates = [
        ("is_builder", error.is_builder()),
        ("is_request", error.is_request()),
        ("is_redirect", error.is_redirect()),
        ("is_status", error.is_status()),
        ("is_connect", error.is_connect()),
        ("is_timeout", error.is_timeout()),
        ("is_body", error.is_body()),
        ("is_decode", error.is_decode()),
    ];
    let mut is_a = vec!["reqwest::Error".to_owned()];
    is_a.extend(
        predicates
            .iter()
            .filter(|(_, holds)| *holds)
            .map(|(name, _)| format!("reqwest::Error::{name}")),
    );
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ClientError {
        native: Some("reqwest::Error".to_owned()),
        is_a,
        class: Some(classify(error)),
        message,
        status: error.status().map(|s| s.as_u16()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a past date means now"
        );
        assert_eq!(retry_after("soon"), None);
    }
}
