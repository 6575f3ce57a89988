//! Helpers shared by the integration tests.

use std::time::Duration;

use bytes::Bytes;
use outage::{Attempt, Fault, FaultServer};
use reqwest::StatusCode;

/// A mock service answering as `mock` does, and a proxy for `fault` in
/// front of it.
pub async fn proxy_in_front(
    fault: Fault,
    mock: wiremock::Mock,
) -> (wiremock::MockServer, FaultServer) {
    let service = wiremock::MockServer::start().await;
    mock.mount(&service).await;
    let proxy = FaultServer::builder(fault)
        .upstream(service.address().to_string())
        .start()
        .await
        .expect("the proxy starts");
    (service, proxy)
}

/// Longest a test waits for the server to journal what the client already saw.
pub const SETTLE: Duration = Duration::from_secs(5);

/// Timeouts a test client uses; every field bounds one wait.
#[derive(Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Option<Duration>,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_millis(500),
            read: None,
            total: Duration::from_secs(5),
        }
    }
}

/// A reqwest client that never reuses connections and never uses a proxy.
pub fn client(timeouts: Timeouts) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total);
    if let Some(read) = timeouts.read {
        builder = builder.read_timeout(read);
    }
    builder
        .build()
        .expect("a client with plain settings builds")
}

/// A reqwest client that keeps connections alive between requests, as
/// applications do, and never uses a proxy.
pub fn pooled_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client with plain settings builds")
}

/// GETs `url` and reads the whole body.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
) -> Result<(StatusCode, Bytes), reqwest::Error> {
    let response = client.get(url).send().await?;
    let status = response.status();
    Ok((status, response.bytes().await?))
}

pub async fn start(fault: Fault) -> FaultServer {
    FaultServer::start(fault.clone())
        .await
        .unwrap_or_else(|e| panic!("{} did not start: {e}", fault.name()))
}

/// Waits until the server has journaled `count` finished attempts.
pub async fn settled(server: &FaultServer, count: u64) -> Vec<Attempt> {
    server
        .journal()
        .settled(count, SETTLE)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Parses a fault from the inline TOML table the catalogue would use.
pub fn fault(toml: &str) -> Fault {
    let table: toml::Table =
        toml::from_str(&format!("fault = {toml}")).expect("test fault is valid TOML");
    table["fault"]
        .clone()
        .try_into()
        .unwrap_or_else(|e| panic!("{toml}: {e}"))
}

/// Says on the terminal, past the test harness's capture, that a test did not
/// run and why: a skip must never pass silently.
#[cfg_attr(not(feature = "dns-responder"), allow(dead_code))]
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {reason}");
}

/// An upstream on `127.0.0.1:0` that sends every byte back on its
/// connection. Its tasks end with the test's runtime.
#[cfg_attr(not(feature = "toxiproxy-api"), allow(dead_code))]
pub async fn echo_upstream() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("the echo server binds");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                // An error only ends this one connection, as a peer's reset should.
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    addr
}
