//! Starts every fault with its defaults, hits each with a reqwest client, and
//! prints what the client saw beside what the server journaled.
//!
//! Run with `make demo` (or `cargo run --example demo`).

use std::time::Duration;

use outage::fault::CATALOGUE;
use outage::{Fault, FaultServer, classify};
use tokio::task::JoinSet;

/// The client every fault is shown against.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const READ_TIMEOUT: Duration = Duration::from_secs(1);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "Each fault at its defaults, against reqwest with connect timeout {CONNECT_TIMEOUT:?}, \
         read timeout {READ_TIMEOUT:?}, total timeout {TOTAL_TIMEOUT:?}.\n"
    );
    let mut runs = JoinSet::new();
    for (position, info) in CATALOGUE.iter().enumerate() {
        let fault = Fault::named(info.name)?;
        runs.spawn(async move { (position, show(fault).await) });
    }
    let mut rows = runs.join_all().await;
    rows.sort_by_key(|(position, _)| *position);
    println!(
        "{:<15} {:<28} server journal (first attempt)",
        "fault", "reqwest sees"
    );
    for (_, (name, seen, journal)) in rows {
        println!("{name:<15} {seen:<28} {journal}");
    }
    Ok(())
}

async fn show(fault: Fault) -> (&'static str, String, String) {
    let name = fault.name();
    let server = match FaultServer::start(fault).await {
        Ok(server) => server,
        Err(error) => return (name, "(could not start)".to_owned(), error.to_string()),
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .build()
        .expect("a client with plain settings builds");
    let seen = match client.get(server.url()).send().await {
        Ok(response) => {
            let status = response.status();
            match response.bytes().await {
                Ok(body) => format!("{} with {} body bytes", status.as_u16(), body.len()),
                Err(error) => format!("{} then {}", status.as_u16(), classify(&error)),
            }
        }
        Err(error) => classify(&error).to_string(),
    };
    drop(client);
    let journal = match server.journal().settled(1, Duration::from_secs(2)).await {
        Ok(attempts) => attempts.first().map(describe).unwrap_or_default(),
        Err(_) if server.journal().count() == 0 => "no attempt reached the server".to_owned(),
        Err(_) => server
            .journal()
            .attempts()
            .first()
            .map(describe)
            .unwrap_or_default(),
    };
    (name, seen, journal)
}

fn describe(attempt: &outage::Attempt) -> String {
    let ending = attempt
        .ending
        .map(|e| e.to_string())
        .unwrap_or_else(|| "still open".to_owned());
    format!("{}; {ending}", attempt.action)
}
