//! What every adversarial test checks afterwards: no process left behind, no
//! temporary file left behind, no fd leaked, memory within a bound.
//!
//! A [`Sandbox`] gives one `outage` process its own temporary directory (so
//! whatever it leaves there is visible and nothing else's is) and a marker
//! that the test's client programs put in their command lines (`exec -a
//! MARKER ...`), so a leaked descendant is found wherever it was reparented.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a check waits for processes to die or files to go.
pub const SETTLE: Duration = Duration::from_secs(5);

/// One `outage` process's temporary directory and process marker.
pub struct Sandbox {
    tmp: TempDir,
    marker: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let marker = format!(
            "outage-adversary-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Sandbox {
            tmp: tempfile::Builder::new()
                .prefix("outage-adversarial-")
                .tempdir()
                .expect("a temporary directory"),
            marker,
        }
    }

    /// A name for client processes to run under (`exec -a MARKER sleep 1e5`);
    /// unique to this sandbox.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// The directory `outage` gets as `TMPDIR`.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// A directory beside `tmp` for the test's own files (scenario files, scripts).
    pub fn files(&self) -> PathBuf {
        let dir = self.tmp.path().with_extension("files");
        std::fs::create_dir_all(&dir).expect("a directory for the test's files");
        dir
    }

    /// `outage ARGS...` with `TMPDIR` set to this sandbox.
    pub fn outage(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outage"));
        command.args(args).env("TMPDIR", self.tmp.path());
        command
    }

    /// Panics unless, within [`SETTLE`], no process carries the marker and
    /// the temporary directory is empty.
    pub fn assert_clean(&self) {
        let start = Instant::now();
        loop {
            let alive = processes_named(&self.marker);
            let left = entries(self.tmp.path());
            if alive.is_empty() && left.is_empty() {
                return;
            }
            if start.elapsed() > SETTLE {
                // Kill what leaked so one failure does not disturb other tests.
                for pid in &alive {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                }
                panic!(
                    "left behind after {SETTLE:?}: processes {alive:?} named {:?}, temporary files {left:?}",
                    self.marker
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for pid in processes_named(&self.marker) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = std::fs::remove_dir_all(self.tmp.path().with_extension("files"));
    }
}

/// The pids of live processes whose command line contains `marker`.
pub fn processes_named(marker: &str) -> Vec<u32> {
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|stat| {
                    stat.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(true);
            !zombie && String::from_utf8_lossy(&cmdline).contains(marker)
        })
        .collect()
}

/// The names of the entries of `dir`.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|read| {
            read.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// How many fds process `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|read| read.count())
        .unwrap_or(0)
}

/// The peak resident memory of live process `pid`, in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
