//! What the machine must have before a scenario can run: its programs, and
//! the files they name. Loading a scenario never looks at the machine, so a
//! file reads the same everywhere; these checks come when it is about to run.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::runner::build;
use crate::runner::command::off_the_workers;
use crate::scenario::{Client, LoadErrors, Place, Scenario, Upstream};

/// Why a loaded scenario cannot run on this machine.
#[derive(Debug)]
pub enum Unready {
    /// A program it needs is not installed: the scenario is skipped.
    NotInstalled(LoadErrors),
    /// A program or file it names is wrong, or its client's build failed:
    /// the scenario is broken.
    Broken(LoadErrors),
}

impl fmt::Display for Unready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unready::NotInstalled(errors) | Unready::Broken(errors) => errors.fmt(f),
        }
    }
}

/// Builds the scenario's client when it gives a `build` command (once per
/// process), then checks that this machine can run it. Looking for programs
/// and files touches the disk, so it is done off the workers that the fault
/// servers answer on.
pub async fn prepare(scenario: &Scenario) -> Result<(), Unready> {
    if let Some(build) = &scenario.build {
        let owned = scenario.clone();
        off_the_workers(move || {
            let build = owned.build.as_deref().unwrap_or_default();
            installed(&owned, owned.client_at, build)
        })
        .await?;
        build::once(build).await.map_err(|reason| {
            Unready::Broken(LoadErrors::one(&scenario.path, scenario.client_at, reason))
        })?;
    }
    let owned = scenario.clone();
    off_the_workers(move || check(&owned)).await
}

/// Checks that the scenario's programs (its client's, and its upstream's
/// when the runner starts one) are installed and executable, and that the
/// files their arguments name exist; each error is located where the
/// program is written in the scenario file.
pub fn check(scenario: &Scenario) -> Result<(), Unready> {
    if let Client::Command(run) = &scenario.client {
        runnable(scenario, scenario.client_at, run)?;
    }
    if let Some(Upstream::Run { run, at }) = &scenario.upstream {
        runnable(scenario, *at, run)?;
    }
    Ok(())
}

/// Checks that the program `run` starts is installed and that the files its
/// arguments name exist; errors are located at `at`.
fn runnable(scenario: &Scenario, at: Place, run: &[String]) -> Result<(), Unready> {
    installed(scenario, at, run)?;
    let missing = run
        .iter()
        .skip(1)
        .find(|arg| names_a_missing_file(arg))
        .map(|arg| format!("file {arg:?} not found (paths are relative to where outage runs)"));
    match missing {
        Some(message) => Err(Unready::Broken(LoadErrors::one(
            &scenario.path,
            at,
            message,
        ))),
        None => Ok(()),
    }
}

/// Checks that the program `command` starts is there and executable: a
/// program looked up on `PATH` and not found is not installed; any other
/// problem is the file's.
fn installed(scenario: &Scenario, at: Place, command: &[String]) -> Result<(), Unready> {
    let Some(program) = command.first().filter(|p| !command_exists(p)) else {
        return Ok(());
    };
    let errors = LoadErrors::one(&scenario.path, at, missing_command(program));
    if program.contains('/') || on_path(program).is_some() {
        Err(Unready::Broken(errors))
    } else {
        Err(Unready::NotInstalled(errors))
    }
}

/// True for an argument that is a path (not a URL, not a placeholder such as
/// `{ca}`, not a line of shell for `sh -c`) to nothing.
fn names_a_missing_file(arg: &str) -> bool {
    arg.contains('/')
        && !arg.contains(['{', ' ', '\t', '\n'])
        && !arg.contains("://")
        && !Path::new(arg).exists()
}

/// True when `program` names an executable file, by path or on `PATH`.
fn command_exists(program: &str) -> bool {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(Path::new(program));
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| executable(&dir.join(program)))
    })
}

/// Why `program`, which [`command_exists`] refused, cannot run: a file that
/// is there but not executable, or nothing there at all.
fn missing_command(program: &str) -> String {
    let file = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        on_path(program)
    };
    match file {
        Some(file) => format!(
            "command {program:?} is not executable ({} lacks the execute permission); \
             make it executable with `chmod +x {}`, or name its interpreter first, \
             as in [\"sh\", {program:?}]",
            file.display(),
            file.display()
        ),
        None if program.contains('/') => format!(
            "command {program:?} not found (paths are relative to where outage runs); fix the path"
        ),
        None => format!("command {program:?} not found on PATH; install it or fix the name"),
    }
}

/// The file named `program` in a folder on `PATH`, executable or not.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}
