//! What the benchmarks share: servers run in child processes, a load client,
//! statistics, and the printing of each figure beside its peer.
//!
//! Each benchmark binary uses a part of this module, so items unused by one
//! binary are expected.
#![allow(dead_code)]

pub mod allocations;
pub mod api;
pub mod load;
pub mod serve;
pub mod wrk;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: allocations::Counting = allocations::Counting;

/// The environment variable that makes a benchmark binary run one server
/// instead of the benchmark (see [`serve_if_asked`]).
const SERVE: &str = "OUTAGE_BENCH_SERVE";

/// The environment variable that gives a proxy kind its upstream (see
/// [`Served::start_with`]).
const UPSTREAM: &str = "OUTAGE_BENCH_UPSTREAM";

/// Runs a server and never returns when this process was started by
/// [`Served::start`]; otherwise returns at once. Call it first in `main`.
pub fn serve_if_asked() {
    if let Ok(kind) = std::env::var(SERVE) {
        serve::run(&kind);
        std::process::exit(0);
    }
}

/// A server running in a child process: this same binary, re-executed in
/// serve mode, so that its memory is its own and the load comes from another
/// process.
pub struct Served {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Where the server listens (the first of `addrs`).
    pub addr: SocketAddr,
    /// Where each of its servers listens, for a kind that starts several.
    pub addrs: Vec<SocketAddr>,
    /// The kind of server, as passed to [`serve::run`].
    pub kind: &'static str,
}

impl Served {
    /// Starts the server `kind` (see [`serve::run`]) and waits for its address.
    pub fn start(kind: &'static str) -> Served {
        Served::spawn(kind, None)
    }

    /// Starts the proxy kind `kind` (see [`serve::run`]) in front of
    /// `upstream` and waits for its address.
    pub fn start_with(kind: &'static str, upstream: SocketAddr) -> Served {
        Served::spawn(kind, Some(upstream))
    }

    fn spawn(kind: &'static str, upstream: Option<SocketAddr>) -> Served {
        let exe = std::env::current_exe().expect("the benchmark knows its own path");
        let mut command = Command::new(exe);
        if let Some(upstream) = upstream {
            command.env(UPSTREAM, upstream.to_string());
        }
        let mut child = command
            .env(SERVE, kind)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the benchmark can re-execute itself");
        let stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the server prints its address");
        let addrs: Vec<SocketAddr> = line
            .split_whitespace()
            .map(|addr| addr.parse())
            .collect::<Result<_, _>>()
            .unwrap_or_else(|_| panic!("server {kind} printed {line:?} instead of its addresses"));
        let addr = *addrs
            .first()
            .unwrap_or_else(|| panic!("server {kind} printed no address"));
        Served {
            child,
            stdin,
            stdout,
            addr,
            addrs,
            kind,
        }
    }

    /// Sends `question` to the server and returns its one-line answer.
    fn ask(&mut self, question: &str) -> String {
        writeln!(self.stdin, "{question}").expect("the server reads its stdin");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("the server answers on stdout");
        line
    }

    /// Requests (or, for `hang`, connections) the server has seen.
    pub fn count(&mut self) -> u64 {
        let line = self.ask("count");
        line.trim()
            .parse()
            .unwrap_or_else(|_| panic!("server {} answered {line:?} to count", self.kind))
    }

    /// Allocations the server process has made since it was first asked;
    /// the first call starts counting and returns 0.
    pub fn allocations(&mut self) -> u64 {
        let line = self.ask("allocations");
        line.trim()
            .parse()
            .unwrap_or_else(|_| panic!("server {} answered {line:?} to allocations", self.kind))
    }

    /// `VmRSS` and `RssAnon` of the server process, in MiB, as it read them
    /// itself once its runtime was built and before it started any server.
    pub fn unserved_mib(&mut self) -> (f64, f64) {
        let line = self.ask("unserved");
        let kib: Vec<u64> = line
            .split_whitespace()
            .filter_map(|kib| kib.parse().ok())
            .collect();
        match kib[..] {
            [rss, anon] => (rss as f64 / 1024.0, anon as f64 / 1024.0),
            _ => panic!("server {} answered {line:?} to unserved", self.kind),
        }
    }

    /// Waits until the server has seen `wanted` requests; gives up after `within`.
    pub fn wait_count(&mut self, wanted: u64, within: Duration) -> u64 {
        let began = std::time::Instant::now();
        loop {
            let count = self.count();
            if count >= wanted || began.elapsed() > within {
                return count;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        rss_kib(self.child.id()) as f64 / 1024.0
    }

    /// CPU time the server process has used so far (user and system, its
    /// threads', ended ones included), in seconds, from `/proc/<pid>/stat`.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // After the command's name in parentheses, `utime` and `stime` are
        // the 12th and 13th fields, in clock ticks of 1/100 s on Linux.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        let ticks: u64 = fields
            .get(11..13)
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.parse::<u64>().ok())
            .sum();
        ticks as f64 / 100.0
    }

    /// CPU time the server process's live threads have run so far, in
    /// seconds to the nanosecond, from `/proc/<pid>/task/<tid>/schedstat`:
    /// finer than [`Served::cpu_seconds`], whose clock ticks are 10 ms, for
    /// figures of a few microseconds per request.
    pub fn cpu_seconds_fine(&self) -> f64 {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        let nanos: u64 = tasks
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        nanos as f64 / 1e9
    }

    /// Anonymous resident memory of the server process (its heap and
    /// stacks, not its binary's pages), in MiB.
    pub fn rss_anon_mib(&self) -> f64 {
        rss_anon_kib(self.child.id()) as f64 / 1024.0
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of process `pid`, from `/proc/<pid>/status`.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// `RssAnon` of process `pid`: its resident memory less the pages mapped
/// from files (its binary and libraries).
pub fn rss_anon_kib(pid: u32) -> u64 {
    status_kib(pid, "RssAnon:")
}

/// A figure in kB of `/proc/<pid>/status`, such as `VmRSS:`.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Raises this process's soft limit on open files to its hard limit, and
/// returns the new soft limit.
pub fn raise_open_files() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 0;
    };
    // An unlimited hard limit is still capped by the kernel's `nr_open`.
    let wanted = hard.min(1 << 20);
    let _ = setrlimit(Resource::RLIMIT_NOFILE, wanted, hard);
    getrlimit(Resource::RLIMIT_NOFILE).map_or(0, |(soft, _)| soft)
}

/// The value at quantile `q` (0 to 1) of `values`, which it sorts.
pub fn quantile<T: Copy + Ord>(values: &mut [T], q: f64) -> T {
    values.sort_unstable();
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    values[index]
}

/// The median of `values`, which it sorts.
pub fn median_f64(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Microseconds in `d`.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Milliseconds in `d`.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints one figure beside its peer's and their ratio (ours / peer).
pub fn compare(what: &str, ours: f64, peer_name: &str, peer: f64, unit: &str) {
    println!(
        "  {what:<26} outage {ours:>10.1} {unit:<5} {peer_name:<9} {peer:>10.1} {unit:<5} ratio {:>5.2}",
        ours / peer
    );
}

/// Prints whether a target was met, and what limits it when it was not.
pub fn verdict(target: &str, met: bool, limit: &str) {
    if met {
        println!("  target ({target}) met");
    } else {
        println!("  target ({target}) MISSED: {limit}");
    }
}
