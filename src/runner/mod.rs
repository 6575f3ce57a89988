//! Running scenarios: start the fault, run the client against it, check what
//! happened against what the scenario expects.
//!
//! - `batch`: many files, a few at a time, and their interruption;
//! - `command`: a program as the client, its output and its deadline;
//! - `process`, `supervisor` and `tree`: how a program is started so that
//!   every process it starts stays findable, and is killed;
//! - `upstream`: the real service behind a fault, started when the
//!   scenario says how;
//! - `output`: a client's output, kept within a bound;
//! - `reqwest_client`: reqwest in process as the client;
//! - `private_dns`: a resolver of its own for a program;
//! - `preflight`: what the machine must have for a scenario (its program);
//! - `build`: a client's build command, once per process;
//! - `report`: verdicts, and the table, JSON and JUnit views.

mod batch;
mod build;
mod command;
mod output;
pub mod preflight;
mod private_dns;
pub mod probe;
mod process;
mod report;
mod reqwest_client;
mod supervisor;
mod tree;
mod upstream;

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

pub use crate::scenario::{ClientError, Observed, Outcome};
pub use batch::{run_files, run_files_until};
#[cfg(feature = "junit")]
pub use report::junit;
pub use report::{Report, Verdict, table};
pub use tree::{adopt_orphans, end_orphans};

use crate::FaultServer;
use crate::runner::command::{CaFile, Target};
use crate::runner::preflight::Unready;
use crate::runner::private_dns::PrivateDns;
use crate::runner::upstream::Service;
use crate::scenario::{self, Client, Scenario};

/// How long the server may take to journal the end of every attempt after
/// the client has finished.
const SETTLE: Duration = Duration::from_secs(2);

/// Runs one scenario file.
pub async fn run_file(path: &Path) -> Report {
    match scenario::load(path) {
        Ok(scenario) => run(&scenario).await,
        Err(errors) => Report::unloadable(path, errors),
    }
}

/// Runs one loaded scenario: builds its client if it says how, checks that
/// the machine has what it needs (skipping it when a program is not
/// installed), starts its upstream when it has one, then runs it.
pub async fn run(scenario: &Scenario) -> Report {
    match preflight::prepare(scenario).await {
        Ok(()) => {}
        Err(Unready::NotInstalled(errors)) => return Report::skipped(scenario, errors.to_string()),
        Err(Unready::Broken(errors)) => return Report::broken(scenario, errors.to_string()),
    }
    let Some(upstream) = &scenario.upstream else {
        return run_prepared(scenario, None).await;
    };
    match Service::start(upstream).await {
        Ok(service) => {
            // Dropped rather than ended when the run is cancelled half way:
            // its `Drop` kills the service's tree all the same.
            let report = run_prepared(scenario, Some(service.address())).await;
            service.end().await;
            report
        }
        Err(reason) => Report::broken(scenario, reason),
    }
}

/// Runs a scenario whose machine is ready, its fault in front of `upstream`
/// when it has one.
async fn run_prepared(scenario: &Scenario, upstream: Option<&str>) -> Report {
    let mut builder = FaultServer::builder(scenario.fault.clone())
        .tls(scenario.tls)
        .http2(scenario.http2);
    if let Some(address) = upstream {
        builder = builder.upstream(address);
    }
    let started = builder.start().await;
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            return Report::broken(scenario, format!("the fault could not start: {error}"));
        }
    };
    let names = scenario
        .dns
        .as_ref()
        .map(|dns| dns.names(server.addr().ip()));
    let url = match &scenario.dns {
        Some(dns) => dns.url(&server.url(), server.addr().ip()),
        None => server.url(),
    };
    // A program looks names up through the system's resolver, so it needs a
    // responder and a namespace of its own; reqwest is given `names` directly.
    let private_dns = match (&names, &scenario.client) {
        (Some(names), Client::Command(_)) => match PrivateDns::start(names.clone()).await {
            Ok(private) => Some(private),
            Err(reason) => return Report::skipped(scenario, reason),
        },
        _ => None,
    };
    let began = Instant::now();
    let (outcome, exit, output) = match &scenario.client {
        Client::Reqwest(settings) => {
            let http2 = scenario.http2 || scenario.fault.is_http2();
            let client = reqwest_client::run(settings, &url, server.ca_pem(), names, http2);
            let outcome = tokio::time::timeout(scenario.deadline, client)
                .await
                .unwrap_or(Outcome::Killed {
                    after: scenario.deadline,
                });
            (outcome, None, String::new())
        }
        Client::Command(run) => {
            let pem = server.ca_pem().map(str::to_owned);
            let ca =
                command::off_the_workers(move || pem.as_deref().map(CaFile::write).transpose());
            let ran = match ca.await {
                Ok(ca) => {
                    let target = Target {
                        url: &url,
                        addr: server.addr(),
                        host: scenario.dns.as_ref().map(|dns| dns.host.as_str()),
                        ca: ca.as_ref().map(CaFile::path),
                    };
                    match command::substitute(run, &target) {
                        Ok(args) => {
                            command::run(&args, &target, scenario.deadline, private_dns.as_ref())
                                .await
                        }
                        Err(reason) => Err(reason),
                    }
                }
                Err(reason) => Err(reason),
            };
            match ran {
                Ok(ran) => match ran.outcome {
                    Outcome::Unavailable { reason } => return Report::skipped(scenario, reason),
                    outcome => (outcome, ran.exit, ran.output),
                },
                Err(reason) => return Report::broken(scenario, reason),
            }
        }
    };
    let took = began.elapsed();
    let journal = server.journal();
    let attempts = journal
        .settled(0, SETTLE)
        .await
        .unwrap_or_else(|_| journal.attempts());
    let observed = Observed {
        outcome,
        exit,
        output,
        took,
        attempt_count: journal.count(),
        gaps: journal.gaps(),
        attempts,
        lookups: private_dns.map(|p| p.queries()).unwrap_or_default(),
    };
    let mut mismatches = scenario.expect.check(&observed);
    mismatches.extend(scenario::contradictions(&observed));
    Report::checked(scenario, observed, mismatches)
}
