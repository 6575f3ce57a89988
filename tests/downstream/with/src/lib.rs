//! A user's crate with outage as a dev-dependency.

#[cfg(test)]
#[path = "../../headers.rs"]
mod headers;

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use outage::{Fault, FaultServer};

    /// The headers the same client sends from the crate without outage,
    /// whose binary `.ci/downstream` builds and names in `OUTAGE_BASELINE`.
    fn baseline() -> String {
        let program = std::env::var("OUTAGE_BASELINE")
            .expect("OUTAGE_BASELINE names the downstream-without binary; run .ci/downstream");
        let output = Command::new(&program).output().expect("the baseline binary runs");
        assert!(output.status.success(), "{program} failed: {output:?}");
        String::from_utf8(output.stdout).expect("headers are text").trim_end().to_owned()
    }

    #[tokio::test]
    async fn a_default_reqwest_client_sends_the_same_headers_with_outage_in_the_tree() {
        assert_eq!(super::headers::default_client_headers().await, baseline());
    }

    #[tokio::test]
    async fn the_library_serves_a_fault_to_the_users_own_client() {
        let server = FaultServer::start(Fault::status(503)).await.expect("a server starts");
        let response = reqwest::get(server.url()).await.expect("an answer");
        assert_eq!(response.status(), 503);
        let attempts = server.journal().settled(1, Duration::from_secs(5)).await.expect("one attempt");
        assert_eq!(attempts.len(), 1);
    }
}
