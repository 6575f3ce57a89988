//! `routes`: one server, a fault per path, each route counting its attempts.

use std::time::Duration;

use outage::fault::Routes;
use outage::{Ending, ErrorClass, Fault, FaultServer, classify};

use crate::support::{Timeouts, client, fault, fetch, pooled_client, settled, start};

fn route_of(attempt: &outage::Attempt) -> &str {
    attempt.route.as_deref().unwrap_or("(none)")
}

#[tokio::test]
async fn each_path_meets_its_route_and_the_rest_fall_back_to_404() {
    let server = start(Fault::routes([
        ("/api/users", Fault::hang()),
        ("/health", Fault::ok()),
    ]))
    .await;
    let client = client(Timeouts {
        read: Some(Duration::from_millis(300)),
        ..Timeouts::default()
    });
    let url = server.url();
    let (health, _) = fetch(&client, &format!("{url}/health")).await.unwrap();
    assert_eq!(health, 200);
    let hung = fetch(&client, &format!("{url}/api/users?page=2"))
        .await
        .unwrap_err();
    // reqwest reports its read timeout as it does its total timeout.
    assert_eq!(classify(&hung), ErrorClass::Timeout);
    let (other, _) = fetch(&client, &format!("{url}/api/users/7")).await.unwrap();
    assert_eq!(other, 404);
    let attempts = settled(&server, 3).await;
    let routes: Vec<&str> = attempts.iter().map(route_of).collect();
    assert_eq!(routes, ["/health", "/api/users", "fallback"]);
    assert!(
        attempts[1].to_string().contains(" route /api/users "),
        "{}",
        attempts[1]
    );
}

#[tokio::test]
async fn kept_alive_requests_on_one_connection_take_different_routes() {
    let server = start(Fault::routes([
        ("/health", Fault::ok()),
        ("/busy", Fault::status(503)),
        ("/broken", Fault::reset()),
    ]))
    .await;
    let client = pooled_client();
    let url = server.url();
    for (path, status) in [("/health", 200), ("/busy", 503), ("/health", 200)] {
        let (got, _) = fetch(&client, &format!("{url}{path}")).await.unwrap();
        assert_eq!(got, status, "{path}");
    }
    let reset = fetch(&client, &format!("{url}/broken")).await.unwrap_err();
    assert_eq!(classify(&reset), ErrorClass::Reset);
    // reqwest's pool may open a spare connection that carries no request.
    let attempts: Vec<_> = settled(&server, 4)
        .await
        .into_iter()
        .filter(|a| a.request.is_some())
        .collect();
    assert!(attempts.iter().all(|a| a.connection == 0), "{attempts:#?}");
    let routes: Vec<&str> = attempts.iter().map(route_of).collect();
    assert_eq!(routes, ["/health", "/busy", "/health", "/broken"]);
    assert_eq!(attempts[3].ending, Some(Ending::ServerRst));
}

#[tokio::test]
async fn each_route_counts_its_own_attempts() {
    let server = start(fault(
        r#"{ kind = "routes", routes = [
            { path = "/api/*", fault = { kind = "sequence", steps = [{ kind = "status", code = 503 }, "ok"] } },
            { path = "/health", fault = "ok" },
        ] }"#,
    ))
    .await;
    let client = pooled_client();
    let url = server.url();
    let mut statuses = Vec::new();
    for path in ["/health", "/health", "/api/a", "/api/b", "/health"] {
        let (status, _) = fetch(&client, &format!("{url}{path}")).await.unwrap();
        statuses.push(status.as_u16());
    }
    // The sequence on /api/* starts at its own first attempt, the server's third.
    assert_eq!(statuses, [200, 200, 503, 200, 200]);
}

#[tokio::test]
async fn the_fallback_can_be_any_fault() {
    let fault = Routes::new([("/health", Fault::ok())]).fallback(Fault::status(410));
    let server = start(fault.into()).await;
    let (status, _) = fetch(&pooled_client(), &format!("{}/gone", server.url()))
        .await
        .unwrap();
    assert_eq!(status, 410);
}

#[tokio::test]
async fn faults_that_act_before_a_request_cannot_be_routes() {
    let error = FaultServer::start(Fault::routes([("/a", Fault::refuse())]))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid routes fault: route 0 \"/a\": \"refuse\" acts before a request is read, \
         but a route is chosen from the request's path; use \"hang\" or \"reset\" instead"
    );
}
