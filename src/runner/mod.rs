//! Running scenarios: start the fault, run the client against it, check what
//! happened against what the scenario expects.
//!
//! - `command`: a program as the client, its output and its deadline;
//! - `supervisor` and `tree`: what keeps every process a client starts
//!   findable, and kills it;
//! - `output`: a client's output, kept within a bound;
//! - `reqwest_client`: reqwest in process as the client;
//! - `private_dns`: a resolver of its own for a program;
//! - `report`: verdicts, and the table, JSON and JUnit views.

mod command;
mod observed;
mod output;
mod private_dns;
pub mod probe;
mod report;
mod reqwest_client;
mod supervisor;
mod tree;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use observed::{ClientError, Observed, Outcome};
pub use report::{Report, Verdict, junit, table};
pub use tree::{adopt_orphans, end_orphans};

use crate::FaultServer;
use crate::runner::command::{CaFile, Target};
use crate::runner::private_dns::PrivateDns;
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

/// Runs the files at `paths`, at most `jobs` at once, in the order given.
pub async fn run_files(
    paths: Vec<PathBuf>,
    jobs: usize,
    progress: impl Fn(&Report) + Send + Sync + 'static,
) -> Vec<Report> {
    run_files_until(paths, jobs, progress, std::future::pending()).await
}

/// [`run_files`], stopped when `stop` resolves to its cause (such as
/// "SIGINT"): every running client's processes are killed, its server
/// stopped and its temporary files removed, and each scenario that had not
/// finished is [`Verdict::Interrupted`]. Returns once all that is done.
pub async fn run_files_until(
    paths: Vec<PathBuf>,
    jobs: usize,
    progress: impl Fn(&Report) + Send + Sync + 'static,
    stop: impl Future<Output = String>,
) -> Vec<Report> {
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let progress = Arc::new(progress);
    let (interrupt, interrupted) = watch::channel(None::<String>);
    let mut waiting = paths.into_iter().enumerate();
    let mut next = waiting.next();
    let mut running = JoinSet::new();
    let mut reports: Vec<(usize, Report)> = Vec::new();
    let mut stop = std::pin::pin!(stop);
    let mut cause = None;
    // Files start in the order given, each as soon as a permit is free.
    while next.is_some() || !running.is_empty() {
        tokio::select! {
            // The semaphore is never closed, so acquiring cannot fail.
            permit = permits.clone().acquire_owned(), if next.is_some() && cause.is_none() => {
                let permit = permit.expect("semaphore is never closed");
                let Some((position, path)) = next.take() else { continue };
                next = waiting.next();
                let progress = progress.clone();
                let interrupted = interrupted.clone();
                running.spawn(async move {
                    let report = run_file_until(&path, interrupted).await;
                    drop(permit);
                    progress(&report);
                    (position, report)
                });
            }
            joined = running.join_next(), if !running.is_empty() => match joined {
                Some(Ok(done)) => reports.push(done),
                Some(Err(error)) => std::panic::resume_unwind(error.into_panic()),
                None => {}
            },
            stopped = &mut stop, if cause.is_none() => {
                interrupt.send_replace(Some(stopped.clone()));
                cause = Some(stopped);
                // The files not started yet end here, unstarted.
                for (position, path) in next.take().into_iter().chain(waiting.by_ref()) {
                    let report = match scenario::load(&path) {
                        Ok(scenario) => Report::interrupted(&scenario, cause.as_deref().unwrap_or_default(), None),
                        Err(errors) => Report::unloadable(&path, errors),
                    };
                    progress(&report);
                    reports.push((position, report));
                }
            }
        }
    }
    reports.sort_by_key(|(position, _)| *position);
    reports.into_iter().map(|(_, report)| report).collect()
}

/// Runs one file, unless `interrupted` names a cause first.
async fn run_file_until(path: &Path, mut interrupted: watch::Receiver<Option<String>>) -> Report {
    let scenario = match scenario::load(path) {
        Ok(scenario) => scenario,
        Err(errors) => return Report::unloadable(path, errors),
    };
    let began = Instant::now();
    tokio::select! {
        report = run(&scenario) => report,
        // Dropping the run kills the client's tree, stops the server and
        // removes the temporary files, each in its `Drop`.
        named = interrupted.wait_for(Option::is_some) => {
            let cause = named.map(|c| c.clone().unwrap_or_default()).unwrap_or_default();
            Report::interrupted(&scenario, &cause, Some(began.elapsed()))
        }
    }
}

/// Runs one loaded scenario.
pub async fn run(scenario: &Scenario) -> Report {
    let started = FaultServer::builder(scenario.fault.clone())
        .tls(scenario.tls)
        .start()
        .await;
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
            let client = reqwest_client::run(settings, &url, server.ca_pem(), names);
            let outcome = tokio::time::timeout(scenario.deadline, client)
                .await
                .unwrap_or(Outcome::Killed {
                    after: scenario.deadline,
                });
            (outcome, None, String::new())
        }
        Client::Command(run) => {
            let ran = match server.ca_pem().map(CaFile::write).transpose() {
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
                Ok(ran) => (ran.outcome, ran.exit, ran.output),
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
    let mismatches = scenario.expect.check(&observed);
    Report::checked(scenario, observed, mismatches)
}
