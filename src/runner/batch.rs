//! Many scenario files, a few at a time, in the order given; stopped
//! part way when the caller says so.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::runner::command::off_the_workers;
use crate::runner::{Report, run};
use crate::scenario;

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
/// finished is [`Verdict::Interrupted`](crate::runner::Verdict::Interrupted). Returns once all that is done.
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
    // Reading the file touches the disk: off the workers that the fault
    // servers answer on.
    let owned = path.to_owned();
    let scenario = match off_the_workers(move || scenario::load(&owned)).await {
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
