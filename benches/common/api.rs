//! Toxiproxy's HTTP API served by a process of its own (`outage proxy`, or
//! Toxiproxy's `toxiproxy-server` when one is at hand), and a small
//! keep-alive client that times each call.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming Toxiproxy's server binary; without it,
/// `toxiproxy-server` is looked for on `PATH`.
const TOXIPROXY_SERVER: &str = "TOXIPROXY_SERVER";

/// An API server in a child process, killed on drop.
pub struct ApiProcess {
    child: Child,
    /// Kept open: `outage proxy` writes to it.
    _stdout: Option<BufReader<ChildStdout>>,
    /// Where the API listens.
    pub addr: SocketAddr,
    /// Which server this is, for the printed figures.
    pub name: &'static str,
}

impl ApiProcess {
    /// `outage proxy --port 0`, the binary built with this benchmark.
    pub fn outage() -> ApiProcess {
        // Set only when the binary is built, which takes the `cli` feature.
        let Some(binary) = option_env!("CARGO_BIN_EXE_outage") else {
            panic!("the outage binary is not built: run with --features cli or --all-features");
        };
        let mut child = Command::new(binary)
            .args(["proxy", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the outage binary runs");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("outage proxy prints its URL");
        let addr = line
            .trim()
            .strip_prefix("http://")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("outage proxy printed {line:?} instead of its URL"));
        ApiProcess {
            child,
            _stdout: Some(stdout),
            addr,
            name: "outage",
        }
    }

    /// Toxiproxy's own server, `binary`, on a free loopback port.
    pub fn toxiproxy(binary: &Path) -> ApiProcess {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|free| free.local_addr())
            .expect("loopback binds");
        let child = Command::new(binary)
            .args(["-host", "127.0.0.1", "-port", &addr.port().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not run: {e}", binary.display()));
        let process = ApiProcess {
            child,
            _stdout: None,
            addr,
            name: "Toxiproxy",
        };
        let began = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "Toxiproxy did not listen on {addr} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        process
    }

    /// Resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        super::rss_kib(self.child.id()) as f64 / 1024.0
    }

    /// Anonymous resident memory of the server process, in MiB.
    pub fn rss_anon_mib(&self) -> f64 {
        super::rss_anon_kib(self.child.id()) as f64 / 1024.0
    }

    /// Creates the proxy `name` to `upstream` on a port the OS picks, with
    /// a downstream `latency` toxic of `latency_ms` if given; returns the
    /// address it listens on.
    pub fn proxy(&self, name: &str, upstream: SocketAddr, latency_ms: Option<u64>) -> SocketAddr {
        let mut client = Client::connect(self.addr);
        let create =
            format!(r#"{{"name":"{name}","listen":"127.0.0.1:0","upstream":"{upstream}"}}"#);
        let created = client.call("POST", "/proxies", &create);
        assert_eq!(created.status, 201, "{} did not create {name}", self.name);
        if let Some(latency) = latency_ms {
            let toxic = format!(
                r#"{{"type":"latency","stream":"downstream","attributes":{{"latency":{latency}}}}}"#
            );
            let added = client.call("POST", &format!("/proxies/{name}/toxics"), &toxic);
            assert_eq!(added.status, 200, "{} did not add a toxic", self.name);
        }
        let proxy: serde_json::Value =
            serde_json::from_slice(&created.body).expect("a created proxy is JSON");
        proxy["listen"]
            .as_str()
            .and_then(|listen| listen.parse().ok())
            .unwrap_or_else(|| panic!("{} answered {proxy} with no listen address", self.name))
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Toxiproxy's server binary: `$TOXIPROXY_SERVER`, or `toxiproxy-server`
/// on `PATH`.
pub fn toxiproxy_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(TOXIPROXY_SERVER) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("toxiproxy-server"))
        .find(|candidate| candidate.is_file())
}

/// One keep-alive connection to an API.
pub struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    /// Connects to the API at `addr`.
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("the API accepts");
        stream
            .set_nodelay(true)
            .expect("loopback sockets take TCP_NODELAY");
        Client {
            stream,
            buffer: Vec::with_capacity(4096),
        }
    }

    /// Sends `method path` with the JSON `body` and reads the whole answer.
    pub fn call(&mut self, method: &str, path: &str, body: &str) -> Answer {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let sent = Instant::now();
        self.stream
            .write_all(request.as_bytes())
            .expect("the request is sent");
        let mut chunk = [0; 16 * 1024];
        loop {
            if let Some((status, head, len)) = complete_response(&self.buffer) {
                let took = sent.elapsed();
                let body = self.buffer[head..len].to_vec();
                self.buffer.drain(..len);
                return Answer { status, took, body };
            }
            let n = self.stream.read(&mut chunk).expect("the answer arrives");
            assert!(n > 0, "the API closed a keep-alive connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

/// An API's answer to one call.
pub struct Answer {
    /// Its status code.
    pub status: u16,
    /// From sending the request to reading the whole answer.
    pub took: Duration,
    /// Its body, as sent (chunked bodies keep their framing).
    pub body: Vec<u8>,
}

/// The status, head length and whole length of the response at the start
/// of `buffer`, once all of it is there: a body of `content-length` bytes,
/// or chunks.
fn complete_response(buffer: &[u8]) -> Option<(u16, usize, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = response.parse(buffer).expect("a valid response") else {
        return None;
    };
    let status = response.code.expect("a complete response has a status");
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let end = buffer[head..].windows(5).position(|w| w == b"0\r\n\r\n")?;
        return Some((status, head, head + end + 5));
    }
    let body: usize =
        header("content-length").map_or(0, |v| v.trim().parse().expect("a numeric content-length"));
    (buffer.len() >= head + body).then_some((status, head, head + body))
}
