//! httpbin's routes on the `ok` server, checked with reqwest as httpbin
//! answers them.

use std::time::Duration;

use outage::Fault;
use serde_json::Value;
use tokio::time::Instant;

use crate::support::{fetch, pooled_client, settled, start};

/// A client with no timeout of its own, for paused-time tests: tokio's clock
/// jumps ahead while the server waits, and would fire a client timeout first.
fn untimed_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn json(url: &str) -> Value {
    let (status, body) = fetch(&untimed_client(), url).await.unwrap();
    assert_eq!(status, 200, "{url}");
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{url}: {e}"))
}

#[tokio::test]
async fn get_echoes_args_headers_origin_and_url() {
    let server = start(Fault::ok()).await;
    let url = format!("{}/get?a=1&a=2&b=x%20y", server.url());
    let got = json(&url).await;
    assert_eq!(got["args"]["a"], serde_json::json!(["1", "2"]));
    assert_eq!(got["args"]["b"], "x y");
    assert_eq!(got["origin"], "127.0.0.1");
    assert_eq!(got["url"], url);
    assert_eq!(got["headers"]["Host"], server.addr().to_string());
    let headers = json(&format!("{}/headers", server.url())).await;
    assert_eq!(headers["headers"]["Accept"], "*/*");
}

/// The codes 40 requests to `/status/200:0.3,500:0.7` draw on a new server.
async fn weighted_draws(fault: Fault) -> Vec<u16> {
    let server = start(fault).await;
    let client = pooled_client();
    let mut codes = Vec::new();
    for _ in 0..40 {
        let url = format!("{}/status/200:0.3,500:0.7", server.url());
        codes.push(fetch(&client, &url).await.unwrap().0.as_u16());
    }
    codes
}

#[tokio::test]
async fn weighted_status_lists_draw_both_codes_and_replay_from_the_seed() {
    let first = weighted_draws(Fault::ok()).await;
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
    assert_eq!(weighted_draws(Fault::ok()).await, first);
    let reseeded = weighted_draws(crate::support::fault(r#"{ kind = "ok", seed = 9 }"#)).await;
    assert_ne!(reseeded, first);
}

#[tokio::test]
async fn status_answers_the_code_and_rejects_junk() {
    let server = start(Fault::ok()).await;
    let client = pooled_client();
    for (path, code) in [
        ("/status/418", 418),
        ("/status/503", 503),
        ("/status/abc", 400),
    ] {
        let (status, _) = fetch(&client, &format!("{}{path}", server.url()))
            .await
            .unwrap();
        assert_eq!(status, code, "{path}");
    }
}

#[tokio::test(start_paused = true)]
async fn delay_waits_on_tokios_clock_and_is_capped_at_ten_seconds() {
    let server = start(Fault::ok()).await;
    let started = Instant::now();
    let got = json(&format!("{}/delay/30", server.url())).await;
    assert_eq!(got["url"], format!("{}/delay/30", server.url()));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "{waited:?}"
    );
}

#[tokio::test]
async fn redirects_lead_to_get_relative_or_absolute() {
    let server = start(Fault::ok()).await;
    for path in [
        "/redirect/3",
        "/redirect/2?absolute=true",
        "/absolute-redirect/2",
    ] {
        let response = pooled_client()
            .get(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.url().path(), "/get", "{path}");
    }
    // reqwest's pool may open a spare connection that carries no request.
    let targets: Vec<String> = settled(&server, 9)
        .await
        .into_iter()
        .filter_map(|a| a.request.map(|r| r.target().to_owned()))
        .collect();
    assert_eq!(
        targets[..4],
        [
            "/redirect/3",
            "/relative-redirect/2",
            "/relative-redirect/1",
            "/get"
        ]
    );
    assert_eq!(
        targets[4..7],
        ["/redirect/2?absolute=true", "/absolute-redirect/1", "/get"]
    );
}

#[tokio::test]
async fn bytes_are_seeded_and_stream_sends_json_lines() {
    let server = start(Fault::ok()).await;
    let client = pooled_client();
    let bytes = |url: String| {
        let client = client.clone();
        async move { fetch(&client, &url).await.unwrap().1 }
    };
    let a = bytes(format!("{}/bytes/64?seed=7", server.url())).await;
    let b = bytes(format!("{}/bytes/64?seed=7", server.url())).await;
    let c = bytes(format!("{}/bytes/64?seed=8", server.url())).await;
    assert_eq!((a.len(), &a), (64, &b));
    assert_ne!(a, c);
    let (_, stream) = fetch(&client, &format!("{}/stream/3", server.url()))
        .await
        .unwrap();
    let ids: Vec<u64> = std::str::from_utf8(&stream)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[tokio::test]
async fn gzip_is_decoded_by_reqwest_and_says_so() {
    let server = start(Fault::ok()).await;
    let got = json(&format!("{}/gzip", server.url())).await;
    assert_eq!(got["gzipped"], true);
    assert_eq!(got["method"], "GET");
}

#[tokio::test(start_paused = true)]
async fn drip_spreads_its_bytes_over_the_duration_after_the_delay() {
    let server = start(Fault::ok()).await;
    let started = Instant::now();
    let url = format!(
        "{}/drip?duration=4&numbytes=4&delay=1&code=201",
        server.url()
    );
    let (status, body) = fetch(&untimed_client(), &url).await.unwrap();
    assert_eq!((status.as_u16(), &body[..]), (201, &b"****"[..]));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
}

#[tokio::test]
async fn other_paths_keep_the_ok_body() {
    let server = start(Fault::ok()).await;
    let (status, body) = fetch(&pooled_client(), &format!("{}/anything/else", server.url()))
        .await
        .unwrap();
    assert_eq!((status.as_u16(), &body[..]), (200, &b"ok\n"[..]));
}

#[tokio::test]
async fn a_delay_in_progress_ends_when_the_server_stops() {
    use tokio::io::AsyncWriteExt;
    let server = start(Fault::ok()).await;
    let mut client = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    client
        .write_all(b"GET /delay/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let journal = server.journal().clone();
    let asked = tokio::time::timeout(Duration::from_secs(5), async {
        while journal
            .attempts()
            .first()
            .is_none_or(|a| a.request.is_none())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    asked.await.expect("the server reads the request");
    tokio::time::timeout(Duration::from_secs(2), server.shutdown())
        .await
        .expect("shutdown does not wait out the delay");
    let attempt = &journal.attempts()[0];
    assert_eq!(attempt.ending, Some(outage::Ending::ServerStopped));
    assert_eq!(
        attempt.action,
        "cut short by server stop after 0 bytes sent; planned: answered as httpbin's /delay/10"
    );
}
