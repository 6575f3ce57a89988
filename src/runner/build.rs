//! A client's `build` command: run once per process, before the first
//! scenario that gives it, however many scenarios give the same command.
//! A compiled probe (Go, Java) is then built once per `outage run`, not once
//! per scenario.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::runner::Outcome;
use crate::runner::command::{self, Target};

/// The longest a build may take: a cold compiler cache included.
const BUILD_DEADLINE: Duration = Duration::from_secs(300);

/// The most of a failed build's output a report quotes.
const OUTPUT_SHOWN: usize = 4000;

type Built = Arc<OnceCell<Result<(), String>>>;

/// Every build command this process has started, and how it went.
fn builds() -> &'static Mutex<HashMap<Vec<String>, Built>> {
    static BUILDS: OnceLock<Mutex<HashMap<Vec<String>, Built>>> = OnceLock::new();
    BUILDS.get_or_init(Mutex::default)
}

/// Runs `build` unless this process already has; every caller waits for the
/// one run and gets its result. `Err` says why the build failed, with its
/// output.
pub(crate) async fn once(build: &[String]) -> Result<(), String> {
    let cell = builds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(build.to_vec())
        .or_default()
        .clone();
    cell.get_or_init(|| run(build)).await.clone()
}

async fn run(build: &[String]) -> Result<(), String> {
    let nowhere = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let target = Target {
        url: "",
        addr: nowhere,
        host: None,
        ca: None,
    };
    let shown = build.join(" ");
    let ran = command::run(build, &target, BUILD_DEADLINE, None).await?;
    if let Outcome::Killed { after } = ran.outcome {
        return Err(format!(
            "the client's build `{shown}` was still running after {after:?}, and was killed"
        ));
    }
    match ran.exit {
        Some(0) => Ok(()),
        exit => {
            let output = tail(&ran.output);
            // The last line first, where a one-line view (the table) shows it.
            let last = output.lines().last().unwrap_or("no output");
            Err(format!(
                "the client's build `{shown}` failed ({}): {last}\n{output}",
                exit.map_or("killed by a signal".to_owned(), |code| format!(
                    "exit {code}"
                )),
            ))
        }
    }
}

/// The end of `output`, where a compiler says what went wrong.
fn tail(output: &str) -> &str {
    let start = output.len().saturating_sub(OUTPUT_SHOWN);
    let start = (start..output.len())
        .find(|&i| output.is_char_boundary(i))
        .unwrap_or(output.len());
    output[start..].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[tokio::test]
    async fn a_build_runs_once_for_every_scenario_that_gives_it() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let counter = dir.path().join("runs");
        let script = format!("echo x >> {}", counter.display());
        let build = argv(&["sh", "-c", &script]);
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..5 {
            let build = build.clone();
            all.spawn(async move { once(&build).await });
        }
        while let Some(result) = all.join_next().await {
            assert_eq!(result.expect("no panic"), Ok(()));
        }
        assert_eq!(once(&build).await, Ok(()));
        let runs = std::fs::read_to_string(&counter).expect("the build ran");
        assert_eq!(runs.lines().count(), 1, "the build ran {runs:?}");
    }

    #[tokio::test]
    async fn a_failed_build_says_its_command_exit_and_output() {
        let build = argv(&["sh", "-c", "echo 'get.go:3: undefined: x' >&2; exit 2"]);
        let error = once(&build).await.expect_err("the build fails");
        assert!(
            error.starts_with("the client's build `sh -c echo")
                && error
                    .contains("failed (exit 2): get.go:3: undefined: x\nget.go:3: undefined: x"),
            "{error}"
        );
    }
}
