//! Toxiproxy's HTTP API, served in process on `127.0.0.1:0` and driven over
//! HTTP with the bodies Toxiproxy's clients send; and `outage proxy` as a
//! process. Every wait is bounded by [`BOUND`].

use std::net::SocketAddr;
use std::time::Duration;

use outage::toxiproxy::ToxiproxyApi;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::support::echo_upstream;

/// The longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(5);

/// The API in process, and a client for it.
struct Api {
    api: ToxiproxyApi,
    client: reqwest::Client,
}

/// What the API answered.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    request_id: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    /// The `{"error","status"}` body of an error, checked against its status.
    fn error(&self) -> String {
        let json = self.json();
        assert_eq!(json["status"], self.status, "{json}");
        json["error"].as_str().expect("an error message").to_owned()
    }
}

async fn start() -> Api {
    let api = ToxiproxyApi::start("127.0.0.1:0")
        .await
        .expect("the API listens");
    let client = reqwest::Client::builder()
        .no_proxy()
        .user_agent("toxiproxy-cli")
        .timeout(BOUND)
        .build()
        .expect("a plain client builds");
    Api { api, client }
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: &str) -> Answer {
        let url = format!("{}{path}", self.api.url());
        let request = self.client.request(method, url).body(body.to_owned());
        let response = request.send().await.expect("the API answers");
        let header = |name: &str| {
            let value = response.headers().get(name)?;
            Some(value.to_str().ok()?.to_owned())
        };
        let (content_type, request_id) = (header("content-type"), header("x-toxiproxy-request-id"));
        let status = response.status().as_u16();
        let body = response.text().await.expect("a whole body");
        Answer {
            status,
            content_type,
            request_id,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, "").await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, &body.to_string()).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, &body.to_string()).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, "").await
    }

    /// Creates a proxy as the Go client does, and returns it.
    async fn create(&self, name: &str, listen: &str, upstream: &str) -> Value {
        let body = json!({"name": name, "listen": listen, "upstream": upstream, "enabled": true, "toxics": null});
        let created = self.post("/proxies", body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.json()
    }
}

/// Connects to `listen` and checks that `ping` comes back through it.
async fn echoes(stream: &mut TcpStream) {
    stream.write_all(b"ping").await.expect("writes");
    let mut back = [0; 4];
    let read = timeout(BOUND, stream.read_exact(&mut back)).await;
    read.expect("the echo comes back in time").expect("reads");
    assert_eq!(&back, b"ping");
}

async fn connect(listen: &str) -> std::io::Result<TcpStream> {
    timeout(BOUND, TcpStream::connect(listen))
        .await
        .expect("connecting ends in time")
}

fn listen_of(proxy: &Value) -> String {
    proxy["listen"]
        .as_str()
        .expect("a listen address")
        .to_owned()
}

#[tokio::test]
async fn proxies_are_created_listed_shown_and_deleted_with_toxiproxys_statuses() {
    let api = start().await;
    assert_eq!(api.get("/proxies").await.json(), json!({}));
    let proxy = api.create("db", "127.0.0.1:0", "127.0.0.1:5432").await;
    let listen = listen_of(&proxy);
    assert!(!listen.ends_with(":0"), "{listen}");
    let expected = json!({"name": "db", "listen": listen, "upstream": "127.0.0.1:5432", "enabled": true, "toxics": []});
    assert_eq!(proxy, expected);
    let listed = api.get("/proxies").await;
    assert_eq!(
        (listed.status, listed.json()),
        (200, json!({"db": expected}))
    );
    assert_eq!(listed.content_type.as_deref(), Some("application/json"));
    assert_eq!(api.get("/proxies/db").await.json(), expected);
    let again = api
        .post("/proxies", json!({"name": "db", "upstream": "x:1"}))
        .await;
    assert_eq!(
        (again.status, again.error()),
        (409, "proxy already exists".into())
    );
    let deleted = api.delete("/proxies/db").await;
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    let gone = api.get("/proxies/db").await;
    assert_eq!((gone.status, gone.error()), (404, "proxy not found".into()));
    assert_eq!(
        gone.body,
        "{\"error\":\"proxy not found\",\"status\":404}\n"
    );
    assert_eq!(api.delete("/proxies/db").await.status, 404);
}

#[tokio::test]
async fn bad_proxies_are_refused_with_toxiproxys_messages() {
    let api = start().await;
    let error = |answer: Answer| (answer.status, answer.error());
    let no_name = api.post("/proxies", json!({"upstream": "x:1"})).await;
    assert_eq!(error(no_name), (400, "missing required field: name".into()));
    let no_upstream = api.post("/proxies", json!({"name": "db"})).await;
    assert_eq!(
        error(no_upstream),
        (400, "missing required field: upstream".into())
    );
    let (status, message) = error(api.call(Method::POST, "/proxies", "{\"name\":").await);
    assert_eq!(status, 400);
    assert!(message.starts_with("bad request body: "), "{message}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = taken.local_addr().expect("has an address").port();
    let clash = api.create_raw("db", &format!("localhost:{port}")).await;
    let expected = format!("listen tcp 127.0.0.1:{port}: bind: address already in use");
    assert_eq!(error(clash), (500, expected));
    assert_eq!(api.get("/proxies").await.json(), json!({}));
    let wrong_method = api.call(Method::PUT, "/proxies", "").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(api.get("/nowhere").await.status, 404);
}

impl Api {
    /// POSTs a proxy to `listen` without checking the answer.
    async fn create_raw(&self, name: &str, listen: &str) -> Answer {
        let body = json!({"name": name, "listen": listen, "upstream": "127.0.0.1:9"});
        self.post("/proxies", body).await
    }
}

#[tokio::test]
async fn traffic_flows_through_a_proxy_given_by_host_name() {
    let api = start().await;
    let upstream = echo_upstream().await;
    let proxy = api
        .create(
            "echo",
            "localhost:0",
            &format!("localhost:{}", upstream.port()),
        )
        .await;
    let listen = listen_of(&proxy);
    assert!(listen.starts_with("127.0.0.1:"), "{listen}");
    let mut stream = connect(&listen).await.expect("the proxy accepts");
    echoes(&mut stream).await;
    echoes(&mut stream).await;
    drop(stream);
    // The counters are read as the links count; give the last write a moment.
    let deadline = tokio::time::Instant::now() + BOUND;
    let expected = format!(
        "toxiproxy_proxy_sent_bytes_total{{direction=\"downstream\",proxy=\"echo\",listener=\"{listen}\""
    );
    loop {
        let metrics = api.get("/metrics").await.body;
        let sent = metrics
            .lines()
            .find(|line| line.starts_with(&expected))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok());
        if sent == Some(8) {
            assert!(
                metrics.contains("outage_proxy_connections_total{proxy=\"echo\""),
                "{metrics}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_disabled_proxy_refuses_connections_and_forwards_again_once_enabled() {
    let api = start().await;
    let upstream = echo_upstream().await;
    let listen = listen_of(
        &api.create("echo", "127.0.0.1:0", &upstream.to_string())
            .await,
    );
    let toxic = json!({"type": "latency", "attributes": {"latency": 0}});
    assert_eq!(api.post("/proxies/echo/toxics", toxic).await.status, 200);
    let mut open = connect(&listen).await.expect("the proxy accepts");
    echoes(&mut open).await;

    let disabled = api.patch("/proxies/echo", json!({"enabled": false})).await;
    assert_eq!(
        (disabled.status, disabled.json()["enabled"].clone()),
        (200, json!(false))
    );
    let mut rest = Vec::new();
    let closed = timeout(BOUND, open.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the open connection is closed");
    let refused = connect(&listen)
        .await
        .expect_err("a disabled proxy refuses");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    // The Go client enables with POST and the whole proxy, as it read it.
    let mut proxy = disabled.json();
    proxy["enabled"] = json!(true);
    let enabled = api.post("/proxies/echo", proxy).await.json();
    assert_eq!(listen_of(&enabled), listen, "the same address again");
    assert_eq!(
        enabled["toxics"][0]["name"], "latency_downstream",
        "toxics are kept"
    );
    let mut stream = connect(&listen).await.expect("an enabled proxy accepts");
    echoes(&mut stream).await;
}

#[tokio::test]
async fn a_new_upstream_restarts_the_proxy_and_a_new_listen_moves_it() {
    let api = start().await;
    let (first, second) = (echo_upstream().await, echo_upstream().await);
    let listen = listen_of(&api.create("echo", "127.0.0.1:0", &first.to_string()).await);
    let moved = api
        .patch("/proxies/echo", json!({"upstream": second.to_string()}))
        .await;
    assert_eq!(moved.json()["upstream"], second.to_string());
    assert_eq!(listen_of(&moved.json()), listen);
    echoes(&mut connect(&listen).await.expect("accepts")).await;
    let elsewhere = api
        .patch("/proxies/echo", json!({"listen": "127.0.0.1:0"}))
        .await;
    let new_listen = listen_of(&elsewhere.json());
    assert_ne!(new_listen, listen);
    echoes(&mut connect(&new_listen).await.expect("accepts")).await;
    let bad = api.patch("/proxies/echo", json!({"enabled": "yes"})).await;
    assert_eq!(bad.status, 400);
    let missing = api.patch("/proxies/nope", json!({})).await;
    assert_eq!(
        (missing.status, missing.error()),
        (404, "proxy not found".into())
    );
}

#[tokio::test]
async fn toxics_are_listed_after_add_update_and_delete() {
    let api = start().await;
    api.create("db", "127.0.0.1:0", "127.0.0.1:9").await;
    let empty = api.get("/proxies/db/toxics").await;
    assert_eq!((empty.status, empty.body.as_str()), (200, "[]"));
    // What the Go client's AddToxic sends: no stream, an empty name.
    let go =
        json!({"name": "", "type": "latency", "toxicity": 1.0, "attributes": {"latency": 100}});
    let added = api.post("/proxies/db/toxics", go.clone()).await;
    assert_eq!(added.status, 200);
    let latency = json!({"attributes": {"jitter": 0, "latency": 100}, "name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0});
    assert_eq!(added.json(), latency);
    let clash = api.post("/proxies/db/toxics", go).await;
    assert_eq!(
        (clash.status, clash.error()),
        (409, "toxic already exists".into())
    );
    let up = json!({"name": "cut", "type": "limit_data", "stream": "Upstream", "toxicity": 0.5, "attributes": null});
    assert_eq!(api.post("/proxies/db/toxics", up).await.status, 200);
    let cut = json!({"attributes": {"bytes": 0}, "name": "cut", "type": "limit_data", "stream": "upstream", "toxicity": 0.5});
    let listed = api.get("/proxies/db/toxics").await.json();
    assert_eq!(listed, json!([cut, latency]), "upstream toxics first");

    let path = "/proxies/db/toxics/latency_downstream";
    let update = json!({"attributes": {"jitter": 10}, "toxicity": 0.25});
    let updated = api.patch(path, update).await.json();
    assert_eq!(updated["attributes"], json!({"jitter": 10, "latency": 100}));
    assert_eq!(updated["toxicity"], 0.25);
    assert_eq!(api.get(path).await.json(), updated);
    assert_eq!(api.get("/proxies/db").await.json()["toxics"][1], updated);

    assert_eq!(api.delete(path).await.status, 204);
    assert_eq!(api.get("/proxies/db/toxics").await.json(), json!([cut]));
    let gone = api.get(path).await;
    assert_eq!((gone.status, gone.error()), (404, "toxic not found".into()));
    assert_eq!(api.patch(path, json!({})).await.status, 404);
    assert_eq!(api.delete(path).await.status, 404);
}

#[tokio::test]
async fn bad_toxics_are_refused_with_toxiproxys_messages() {
    let api = start().await;
    api.create("db", "127.0.0.1:0", "127.0.0.1:9").await;
    let add = |body: Value| api.post("/proxies/db/toxics", body);
    let sideways = add(json!({"type": "latency", "stream": "sideways"})).await;
    let expected = "stream was invalid, can be either upstream or downstream";
    assert_eq!((sideways.status, sideways.error()), (400, expected.into()));
    let unknown = add(json!({"type": "lag"})).await;
    assert_eq!(
        (unknown.status, unknown.error()),
        (400, "invalid toxic type".into())
    );
    let float = add(json!({"type": "latency", "attributes": {"latency": 1.5}})).await;
    assert_eq!(float.status, 400);
    assert!(float.error().starts_with("bad request body: "));
    let no_proxy = api
        .post("/proxies/nope/toxics", json!({"type": "noop"}))
        .await;
    assert_eq!(
        (no_proxy.status, no_proxy.error()),
        (404, "proxy not found".into())
    );
    assert_eq!(api.get("/proxies/nope/toxics").await.status, 404);
    assert_eq!(api.get("/proxies/db/toxics").await.json(), json!([]));
}

#[tokio::test]
async fn populate_creates_keeps_identical_proxies_and_replaces_differing_ones() {
    let api = start().await;
    let first = json!([{"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7171"},
                       {"name": "two", "listen": "localhost:0", "upstream": "127.0.0.1:7272", "enabled": false}]);
    let populated = api.post("/populate", first).await;
    assert_eq!(populated.status, 201, "{}", populated.body);
    let proxies = populated.json()["proxies"].clone();
    assert_eq!(proxies[0]["name"], "one");
    assert_eq!(proxies[1]["enabled"], false);
    let one = listen_of(&proxies[0]);
    let toxic = json!({"type": "noop"});
    assert_eq!(
        api.post("/proxies/one/toxics", toxic.clone()).await.status,
        200
    );
    assert_eq!(api.post("/proxies/two/toxics", toxic).await.status, 200);

    // "one" again as it is, spelled with a host name: kept, toxic and all.
    let same = format!("localhost:{}", one.rsplit(':').next().unwrap_or_default());
    let second = json!([{"name": "one", "listen": same, "upstream": "127.0.0.1:7171"},
                        {"name": "two", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7373"}]);
    let repopulated = api.post("/populate", second).await.json();
    assert_eq!(listen_of(&repopulated["proxies"][0]), one);
    assert_eq!(repopulated["proxies"][0]["toxics"][0]["type"], "noop");
    let two = &repopulated["proxies"][1];
    assert_eq!(
        (two["upstream"].clone(), two["enabled"].clone()),
        (json!("127.0.0.1:7373"), json!(true))
    );
    assert_eq!(
        two["toxics"],
        json!([]),
        "a replaced proxy starts with no toxics"
    );
    let empty = api.post("/populate", json!([])).await;
    assert_eq!((empty.status, empty.json()), (201, json!({"proxies": []})));
}

#[tokio::test]
async fn populate_checks_every_entry_before_creating_any() {
    let api = start().await;
    let body = json!([{"name": "one", "listen": "127.0.0.1:0", "upstream": "x:1"},
                      {"name": "", "listen": "", "enabled": true}]);
    let refused = api.post("/populate", body).await;
    assert_eq!(refused.status, 400);
    let expected =
        json!({"error": "missing required field: name at proxy 2", "status": 400, "proxies": []});
    assert_eq!(refused.json(), expected);
    assert_eq!(api.get("/proxies").await.json(), json!({}));
    let object = api.post("/populate", json!({"proxies": []})).await;
    assert_eq!(object.status, 400);

    // A listen address that cannot be used stops populate there: the
    // proxies before it stay, as in Toxiproxy.
    let body = json!([{"name": "one", "listen": "127.0.0.1:0", "upstream": "x:1"},
                      {"name": "two", "listen": "local373", "upstream": "x:1"},
                      {"name": "three", "listen": "127.0.0.1:0", "upstream": "x:1"}]);
    let stopped = api.post("/populate", body).await;
    assert_eq!(stopped.status, 500);
    assert_eq!(
        stopped.json()["error"],
        "listen tcp: address local373: missing port in address"
    );
    assert_eq!(stopped.json()["proxies"][0]["name"], "one");
    let names: Vec<String> = api
        .get("/proxies")
        .await
        .json()
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(names, ["one"]);
}

#[tokio::test]
async fn reset_enables_every_proxy_and_removes_every_toxic() {
    let api = start().await;
    let upstream = echo_upstream().await;
    let listen = listen_of(
        &api.create("echo", "127.0.0.1:0", &upstream.to_string())
            .await,
    );
    api.create("other", "127.0.0.1:0", "127.0.0.1:9").await;
    api.post("/proxies/echo/toxics", json!({"type": "noop"}))
        .await;
    api.post(
        "/proxies/other/toxics",
        json!({"type": "noop", "stream": "upstream"}),
    )
    .await;
    api.patch("/proxies/echo", json!({"enabled": false})).await;

    let reset = api.call(Method::POST, "/reset", "").await;
    assert_eq!((reset.status, reset.body.as_str()), (204, ""));
    let proxies = api.get("/proxies").await.json();
    for name in ["echo", "other"] {
        assert_eq!(proxies[name]["enabled"], true, "{proxies}");
        assert_eq!(proxies[name]["toxics"], json!([]), "{proxies}");
    }
    echoes(&mut connect(&listen).await.expect("enabled again")).await;
}

#[tokio::test]
async fn every_routed_answer_carries_a_request_id_and_browsers_are_turned_away() {
    let api = start().await;
    // The router's own 404 and 405 come before Toxiproxy's id middleware.
    let unrouted = [
        api.get("/nowhere").await,
        api.call(Method::PUT, "/version", "").await,
    ];
    let statuses: Vec<(u16, Option<String>)> = unrouted
        .into_iter()
        .map(|a| (a.status, a.request_id))
        .collect();
    assert_eq!(statuses, [(404, None), (405, None)]);
    let answers = [
        api.get("/proxies").await,
        api.get("/proxies/nope").await,
        api.get("/version").await,
    ];
    let ids: Vec<&str> = answers
        .iter()
        .map(|a| a.request_id.as_deref().expect("an id"))
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    let browser = api
        .client
        .get(format!("{}/proxies", api.api.url()))
        .header("User-Agent", "Mozilla/5.0")
        .send()
        .await
        .expect("answers");
    assert_eq!(browser.status(), 403);
}

#[tokio::test]
async fn version_and_metrics_answer_as_documented() {
    let api = start().await;
    let version = api.get("/version").await;
    assert_eq!(version.body, "{\"version\": \"2.12.0\"}\n");
    assert_eq!(
        version.content_type.as_deref(),
        Some("application/json;charset=utf-8")
    );
    api.create("db", "127.0.0.1:0", "127.0.0.1:9").await;
    let metrics = api.get("/metrics").await;
    assert!(
        metrics
            .content_type
            .unwrap_or_default()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        metrics.body.contains("outage_proxy_enabled{proxy=\"db\""),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("outage_proxy_toxics{proxy=\"db\",direction=\"downstream\"} 0")
    );
}

#[tokio::test]
async fn shutting_the_api_down_stops_its_proxies() {
    let api = start().await;
    let listen = listen_of(&api.create("db", "127.0.0.1:0", "127.0.0.1:9").await);
    timeout(BOUND, api.api.shutdown())
        .await
        .expect("shuts down in time");
    let refused = connect(&listen).await.expect_err("the proxy is gone");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[cfg(feature = "cli")]
mod process {
    use super::*;
    use crate::cli::Outage;

    #[rstest::rstest]
    #[case::sigterm("TERM")]
    #[case::sigint("INT")]
    #[tokio::test(flavor = "multi_thread")]
    async fn outage_proxy_prints_its_url_loads_its_config_and_exits_0_on_a_signal(
        #[case] signal: &str,
    ) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = dir.path().join("proxies.json");
        let proxies = json!([{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]);
        std::fs::write(&config, proxies.to_string()).expect("writes the config");
        let path = config.to_str().expect("a UTF-8 path");
        let mut outage = Outage::spawn(&["proxy", "--port", "0", "--config", path]);
        let url = outage.first_line();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(BOUND)
            .build()
            .expect("builds");
        let listed = client
            .get(format!("{url}/proxies"))
            .send()
            .await
            .expect("answers");
        let listed: Value =
            serde_json::from_str(&listed.text().await.expect("a body")).expect("JSON");
        assert_eq!(listed["db"]["enabled"], true, "{listed}");
        outage.signal(signal);
        let (status, _, stderr) = outage.finish();
        assert_eq!(status.code(), Some(0), "{stderr}");
    }

    #[test]
    fn a_bad_config_file_is_named_with_what_is_wrong_and_exits_2() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = dir.path().join("proxies.json");
        std::fs::write(&config, r#"[{"name": "db"}]"#).expect("writes the config");
        let path = config.to_str().expect("a UTF-8 path");
        let (status, stdout, stderr) =
            Outage::spawn(&["proxy", "--port", "0", "--config", path]).finish();
        assert_eq!(status.code(), Some(2));
        assert_eq!(stdout, "");
        let expected =
            format!("outage: bad config file {path}: missing required field: upstream at proxy 1");
        assert_eq!(stderr, expected);
    }
}

/// An upstream answering every HTTP request `200 real`, and closing.
async fn http_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer =
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nreal";
                let _ = stream.write_all(answer).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_outage_toxic_carries_any_fault_and_its_journal_is_served() {
    let api = start().await;
    let upstream = http_upstream().await;
    let listen = listen_of(
        &api.create("web", "127.0.0.1:0", &upstream.to_string())
            .await,
    );
    let fault = json!({"kind": "sequence", "steps": [{"kind": "status", "code": 503}, "ok"]});
    let created = api
        .post(
            "/proxies/web/toxics",
            json!({"type": "outage", "attributes": fault}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["name"], "outage_downstream");
    assert_eq!(created.json()["attributes"]["kind"], "sequence");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(BOUND)
        .build()
        .expect("builds");
    let url = format!("http://{listen}/item");
    let first = client.get(&url).send().await.expect("answers");
    assert_eq!(first.status(), 503);
    let second = client.get(&url).send().await.expect("answers");
    assert_eq!(second.text().await.expect("a body"), "real");

    let journal = api.get("/proxies/web/journal").await;
    let attempts = journal.json();
    let attempts = attempts.as_array().expect("a list of attempts");
    assert_eq!(attempts.len(), 2, "{}", journal.body);
    assert!(
        attempts[0]["upstream"].is_null(),
        "the upstream never saw the first"
    );
    assert_eq!(attempts[1]["upstream"]["address"], upstream.to_string());

    let changed = api
        .patch(
            "/proxies/web/toxics/outage_downstream",
            json!({"attributes": {"kind": "status", "code": 418}}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let attributes = &changed.json()["attributes"];
    assert_eq!(
        (&attributes["kind"], &attributes["code"]),
        (&json!("status"), &json!(418))
    );
    assert_eq!(
        client.get(&url).send().await.expect("answers").status(),
        418
    );

    let second_outage = api
        .post(
            "/proxies/web/toxics",
            json!({"type": "outage", "name": "more", "attributes": {"kind": "hang"}}),
        )
        .await;
    assert_eq!(second_outage.status, 409, "{}", second_outage.body);
    let bad = api
        .post("/proxies/web/toxics", json!({"type": "outage", "name": "bad", "attributes": {"kind": "truncate", "sent": 10, "length": 5}}))
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]
            .as_str()
            .unwrap_or_default()
            .contains("truncate"),
        "{}",
        bad.body
    );
    let unknown = api
        .post(
            "/proxies/web/toxics",
            json!({"type": "outage", "name": "bad", "attributes": {"kind": "rest"}}),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    let message = unknown.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.ends_with("(did you mean \"reset\"?)"), "{message}");
    assert_eq!(api.get("/proxies/nope/journal").await.status, 404);
}
