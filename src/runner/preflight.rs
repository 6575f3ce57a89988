//! What the machine must have before a scenario can run: its program, and
//! the files it names. Loading a scenario never looks at the machine, so a
//! file reads the same everywhere; these checks come when it is about to run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::scenario::{self, Client, LoadErrors, Scenario};

/// Loads the scenario file at `path` and checks that this machine can run it.
pub fn load(path: &Path) -> Result<Scenario, LoadErrors> {
    let scenario = scenario::load(path)?;
    check(&scenario)?;
    Ok(scenario)
}

/// Checks that the scenario's program is installed and executable, and that
/// the files its arguments name exist; the error is located at the client in
/// the scenario file.
pub fn check(scenario: &Scenario) -> Result<(), LoadErrors> {
    let Client::Command(run) = &scenario.client else {
        return Ok(());
    };
    let problem = match run.split_first() {
        Some((program, _)) if !command_exists(program) => Some(missing_command(program)),
        Some((_, args)) => args
            .iter()
            .find(|arg| names_a_missing_file(arg))
            .map(|arg| format!("file {arg:?} not found (paths are relative to where outage runs)")),
        None => None,
    };
    match problem {
        Some(message) => Err(LoadErrors::one(&scenario.path, scenario.client_at, message)),
        None => Ok(()),
    }
}

/// True for an argument that is a path (not a URL, not a placeholder such as
/// `{ca}`) to nothing.
fn names_a_missing_file(arg: &str) -> bool {
    arg.contains('/') && !arg.contains('{') && !arg.contains("://") && !Path::new(arg).exists()
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
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
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
