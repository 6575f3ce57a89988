//! `wrk` as the load generator: keep-alive GETs from one thread, with its
//! rate, latency quantiles and failed connections read from its report; or
//! from one thread per connection, spread over several servers.

use std::net::SocketAddr;
use std::process::{Command, Output};

/// One `wrk` run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Requests per second.
    pub rate: f64,
    /// Requests answered.
    pub requests: u64,
    /// Median latency, in µs.
    pub p50: f64,
    /// 99th percentile latency, in µs.
    pub p99: f64,
    /// wrk's socket errors; a `read` error is a keep-alive connection the
    /// server closed, after which wrk connects again.
    pub errors: u64,
}

/// Runs `wrk --latency` against `addr` (the server `name`) over
/// `connections` connections for `seconds`.
pub fn run(addr: SocketAddr, name: &str, connections: usize, seconds: u32) -> Run {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .arg("--latency")
        .arg(format!("http://{addr}/"))
        .output()
        .expect("wrk runs (apt-get install wrk)");
    report(&output, name)
}

/// Gives each of wrk's threads one connection to a server of its own
/// (`thread.addr`), round-robin over the ports in `OUTAGE_BENCH_PORTS`.
const SPREAD: &str = r#"
local ports = {}
for port in string.gmatch(os.getenv("OUTAGE_BENCH_PORTS"), "%d+") do
  ports[#ports + 1] = port
end
local threads = 0
function setup(thread)
  thread.addr = wrk.lookup("127.0.0.1", ports[threads % #ports + 1])[1]
  threads = threads + 1
end
"#;

/// Runs `wrk --latency` with `connections` threads of one connection each,
/// thread `i` on `addrs[i % addrs.len()]` (the servers `name`), for `seconds`.
pub fn spread(addrs: &[SocketAddr], name: &str, connections: usize, seconds: u32) -> Run {
    let mut script = tempfile::NamedTempFile::new().expect("a temporary file");
    std::io::Write::write_all(&mut script, SPREAD.as_bytes()).expect("the script is written");
    let ports: Vec<String> = addrs.iter().map(|a| a.port().to_string()).collect();
    let output = Command::new("wrk")
        .env("OUTAGE_BENCH_PORTS", ports.join(","))
        .args([&format!("-t{connections}"), &format!("-c{connections}")])
        .args([&format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script.path())
        .arg(format!("http://{}/", addrs[0]))
        .output()
        .expect("wrk runs (apt-get install wrk)");
    report(&output, name)
}

/// The figures of wrk's report in `output`.
fn report(output: &Output, name: &str) -> Run {
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "{name} answered other than 2xx:\n{text}"
    );
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    let needed = |prefix: &str| {
        field(prefix).unwrap_or_else(|| panic!("no {prefix:?} in wrk's output:\n{text}"))
    };
    // `Socket errors: connect 0, read 134, write 0, timeout 0`, when any.
    let errors = field("Socket errors:").map_or(0, |counts| {
        counts
            .split(',')
            .filter_map(|c| c.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum()
    });
    // `  262144 requests in 3.00s, 21.25MB read`
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk's output:\n{text}"));
    Run {
        rate: needed("Requests/sec:").parse().expect("a rate"),
        requests,
        p50: micros(needed("50%")),
        p99: micros(needed("99%")),
        errors,
    }
}

/// A duration as `wrk` prints it (`36.00us`, `1.20ms`, `2.00s`), in µs.
fn micros(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let value: f64 = text[..split].parse().expect("a number before the unit");
    match &text[split..] {
        "us" => value,
        "ms" => value * 1e3,
        "s" => value * 1e6,
        "m" => value * 60e6,
        unit => panic!("wrk printed an unknown unit {unit:?}"),
    }
}
