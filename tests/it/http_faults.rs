//! The HTTP-level faults against a real reqwest client: redirects, a body
//! that is not the encoding it claims, two Content-Lengths, Retry-After dates.

use std::time::{Duration, SystemTime};

use outage::{Ending, ErrorClass, Fault, classify};

use crate::support::{Timeouts, client, fault, fetch, pooled_client, settled, start};

#[tokio::test]
async fn redirect_loop_stops_reqwest_after_ten_redirects() {
    let server = start(Fault::named("redirect-loop").unwrap()).await;
    let error = fetch(&pooled_client(), &format!("{}/loop?x=1", server.url()))
        .await
        .unwrap_err();
    assert!(error.is_redirect(), "{error:?}");
    assert_eq!(classify(&error), ErrorClass::TooManyRedirects);
    // The first request and the ten redirects reqwest followed. reqwest's
    // pool may also open a spare connection that never carries a request.
    let requests: Vec<String> = settled(&server, 11)
        .await
        .into_iter()
        .filter_map(|a| a.request.map(|r| r.target().to_owned()))
        .collect();
    assert_eq!(requests, vec!["/loop?x=1"; 11]);
}

#[tokio::test]
async fn redirect_loop_takes_its_code_headers_and_body() {
    let server = start(fault(
        r#"{ kind = "redirect-loop", code = 307, headers = { X-Why = "moved" }, body = "again" }"#,
    ))
    .await;
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects.get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(response.headers()["x-why"], "moved");
    assert_eq!(response.text().await.unwrap(), "again");
}

#[tokio::test]
async fn redirect_chain_within_the_limit_ends_in_a_200() {
    let server = start(fault(r#"{ kind = "redirect-chain", hops = 4 }"#)).await;
    let (status, body) = fetch(&pooled_client(), &format!("{}/a", server.url()))
        .await
        .unwrap();
    assert_eq!((status.as_u16(), &body[..]), (200, &b"ok\n"[..]));
    let targets: Vec<String> = settled(&server, 5)
        .await
        .into_iter()
        .filter_map(|a| a.request.map(|r| r.target().to_owned()))
        .collect();
    assert_eq!(
        targets,
        [
            "/a",
            "/a?outage-hop=1",
            "/a?outage-hop=2",
            "/a?outage-hop=3",
            "/a?outage-hop=4"
        ]
    );
}

#[tokio::test]
async fn redirect_chain_takes_its_redirect_and_final_answers() {
    let server = start(fault(
        r#"{ kind = "redirect-chain", hops = 2, code = 308, final-code = 503, final-body = "down" }"#,
    ))
    .await;
    let (status, body) = fetch(&pooled_client(), &server.url()).await.unwrap();
    assert_eq!((status.as_u16(), &body[..]), (503, &b"down"[..]));
    let targets: Vec<String> = settled(&server, 3)
        .await
        .into_iter()
        .filter_map(|a| a.request.map(|r| r.target().to_owned()))
        .collect();
    assert_eq!(targets, ["/", "/?outage-hop=1", "/?outage-hop=2"]);
}

#[tokio::test]
async fn redirect_chain_past_the_limit_is_too_many_redirects() {
    let server = start(fault(r#"{ kind = "redirect-chain", hops = 11 }"#)).await;
    let error = fetch(&pooled_client(), &server.url()).await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::TooManyRedirects);
}

#[tokio::test]
async fn bad_encoding_is_a_decode_error_while_reading_the_body() {
    let server = start(Fault::named("bad-encoding").unwrap()).await;
    let response = client(Timeouts::default())
        .get(server.url())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let error = response.bytes().await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
    assert_eq!(classify(&error), ErrorClass::Decode);
}

#[tokio::test]
async fn bad_encoding_takes_its_code_and_body() {
    let server = start(fault(
        r#"{ kind = "bad-encoding", code = 502, body = "plain", headers = { X-Proxy = "edge" } }"#,
    ))
    .await;
    let identity = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .build()
        .unwrap();
    let response = identity.get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["x-proxy"], "edge");
    assert_eq!(response.text().await.unwrap(), "plain");
}

#[tokio::test]
async fn conflicting_lengths_are_rejected_by_reqwest() {
    let server = start(Fault::named("conflicting-length").unwrap()).await;
    let error = fetch(&client(Timeouts::default()), &server.url())
        .await
        .unwrap_err();
    assert_eq!(classify(&error), ErrorClass::MalformedResponse, "{error:?}");
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].ending, Some(Ending::ServerFin));
    assert!(attempts[0].action.contains("content-length 3 and 13"));
}

#[tokio::test]
async fn retry_after_date_is_an_http_date_made_when_the_response_is() {
    let server = start(Fault::Status(
        outage::fault::Status::code(503).retry_after_date(Duration::from_secs(2)),
    ))
    .await;
    for _ in 0..2 {
        let before = SystemTime::now();
        let response = pooled_client().get(server.url()).send().await.unwrap();
        let value = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .to_owned();
        let at = httpdate::parse_http_date(&value).unwrap();
        let ahead = at.duration_since(before).unwrap();
        // Rounded up to a whole second: at least 2 s ahead, less than 3 s
        // (plus the time the request took).
        assert!(
            ahead >= Duration::from_secs(2) && ahead < Duration::from_millis(3500),
            "{value} is {ahead:?} ahead"
        );
    }
}

#[tokio::test]
async fn retry_after_seconds_are_rounded_up() {
    let server = start(fault(
        r#"{ kind = "status", code = 429, retry-after = "1500ms" }"#,
    ))
    .await;
    let response = pooled_client().get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
}

#[tokio::test]
async fn the_journal_reads_each_status_line_sent_off_the_wire() {
    let server = start(fault(
        r#"{ kind = "sequence", steps = [{ kind = "status", code = 503 }, "ok", "garbage", "empty-reply"] }"#,
    ))
    .await;
    let client = pooled_client();
    for _ in 0..4 {
        let _ = fetch(&client, &server.url()).await;
    }
    let sent: Vec<Option<u16>> = settled(&server, 4)
        .await
        .into_iter()
        .filter(|a| a.request.is_some())
        .map(|a| a.status_sent)
        .collect();
    assert_eq!(sent, [Some(503), Some(200), None, None]);
}

#[tokio::test]
async fn a_kept_alive_attempt_ends_with_its_response_not_with_the_next_request() {
    let server = start(Fault::named("ok").unwrap()).await;
    let client = pooled_client();
    fetch(&client, &server.url())
        .await
        .expect("the first answer");
    tokio::time::sleep(Duration::from_millis(400)).await;
    fetch(&client, &server.url())
        .await
        .expect("the second answer");
    // The first attempt ended when the second request began; the second is
    // still open.
    let attempts = server.journal().attempts();
    let first = &attempts[0];
    assert_eq!(first.ending, Some(Ending::KeptAlive), "{first}");
    let lasted = first.ended.expect("ended") - first.started;
    assert!(
        lasted < Duration::from_millis(300),
        "the first attempt lasted {lasted:?}, through the idle wait: {first}"
    );
    assert!(attempts[1].started - first.started >= Duration::from_millis(400));
}
