//! The `outage` binary, run as a process.
//!
//! Every wait is bounded by [`BOUND`], and every child is killed and reaped
//! by [`Outage`]'s `Drop`, also when an assertion fails first. Async tests use
//! the multi-thread runtime: waiting for a line of output blocks the test's
//! thread, and the client's connection tasks must go on running meanwhile
//! (closing a connection is what makes the server print its attempt).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use rstest::rstest;

/// The longest any single wait in these tests may take.
pub(crate) const BOUND: Duration = Duration::from_secs(5);

/// A running `outage` process whose output is read line by line on threads.
pub(crate) struct Outage {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every stderr line received so far, for failure messages.
    seen: Vec<String>,
}

/// Sends each line of `pipe` on a channel until the pipe closes.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

impl Outage {
    /// Starts `outage ARGS...`.
    pub(crate) fn spawn(args: &[&str]) -> Outage {
        Outage::spawn_in(Path::new("."), args)
    }

    /// Starts `outage ARGS...` in the folder `dir`.
    fn spawn_in(dir: &Path, args: &[&str]) -> Outage {
        let mut child = Command::new(env!("CARGO_BIN_EXE_outage"))
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the outage binary starts");
        let stdout = lines(child.stdout.take().expect("stdout is piped"));
        let stderr = lines(child.stderr.take().expect("stderr is piped"));
        Outage {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    /// Starts `outage serve ARGS...` and returns it with the URL it printed first.
    fn serve(args: &[&str]) -> (Outage, String) {
        let mut outage = Outage::spawn(&[&["serve"], args].concat());
        let url = outage.first_line();
        (outage, url)
    }

    /// The first line of stdout.
    pub(crate) fn first_line(&mut self) -> String {
        match self.stdout.recv_timeout(BOUND) {
            Ok(line) => line,
            Err(e) => panic!(
                "no line on stdout ({e:?}); stderr: {:?}",
                self.drain_stderr()
            ),
        }
    }

    /// Waits for a stderr line that contains `needle`.
    fn stderr_line(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|line| line.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + BOUND;
        loop {
            match self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.contains(needle) => {
                    self.seen.push(line.clone());
                    return line;
                }
                Ok(line) => self.seen.push(line),
                Err(e) => panic!(
                    "no stderr line contains {needle:?} ({e:?}); stderr so far: {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Sends `signal` (such as "TERM") with kill(1).
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{signal} failed: {status}");
    }

    /// Waits at most `bound` for the process to exit.
    fn exit_status(&mut self, bound: Duration) -> ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "outage did not exit within {bound:?}; stderr: {:?}",
                self.seen
            );
            // Polling: std has no wait with a timeout. This is not synchronisation,
            // only how often the bounded wait looks.
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits at most [`BOUND`] for the process to exit and returns its
    /// status, stdout and stderr.
    pub(crate) fn finish(self) -> (ExitStatus, String, String) {
        self.finish_within(BOUND)
    }

    /// Waits at most `bound` for the process to exit and returns its status,
    /// stdout and stderr.
    fn finish_within(mut self, bound: Duration) -> (ExitStatus, String, String) {
        let status = self.exit_status(bound);
        let stdout = drain(&self.stdout).join("\n");
        let stderr = self.drain_stderr().join("\n");
        (status, stdout, stderr)
    }

    /// Every stderr line, once the process has closed stderr (or after [`BOUND`]).
    fn drain_stderr(&mut self) -> Vec<String> {
        let more = drain(&self.stderr);
        self.seen.extend(more);
        self.seen.clone()
    }
}

/// Receives until the sender is gone, for at most [`BOUND`] in all.
fn drain(lines: &Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + BOUND;
    let mut all = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => all.push(line),
            Err(RecvTimeoutError::Disconnected | RecvTimeoutError::Timeout) => return all,
        }
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        // Errors mean the child is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Longest a one-shot command may take: `outage run` launches interpreters
/// and waits on clients with timeouts of their own (5 s in the fixtures),
/// which a loaded machine stretches.
const COMMAND_BOUND: Duration = Duration::from_secs(60);

/// Runs `outage ARGS...` to the end.
pub(crate) fn outage(args: &[&str]) -> (ExitStatus, String, String) {
    Outage::spawn(args).finish_within(COMMAND_BOUND)
}

/// A client that opens a new connection per request and ignores proxy settings.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(1))
        .timeout(BOUND)
        .build()
        .expect("a plain client builds")
}

/// GETs `url` with a fresh client, and closes the connection once the
/// whole body is read.
async fn get(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a whole body"))
}

/// The address in `url`, which must be exactly `http://127.0.0.1:PORT`.
fn addr_of(url: &str) -> SocketAddr {
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|port| port.parse::<u16>().ok())
        .filter(|port| *port != 0)
        .unwrap_or_else(|| panic!("{url:?} is not http://127.0.0.1:PORT"));
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_prints_the_url_alone_on_the_first_line() {
    let (served, url) = Outage::serve(&["ok"]);
    addr_of(&url);
    assert_eq!(get(&url).await, (200, "ok\n".to_owned()));
    served.signal("TERM");
    let (status, stdout, _) = served.finish();
    assert!(status.success(), "{status}");
    assert_eq!(stdout, "", "stdout holds the url and nothing else");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_status_answers_with_the_code_header_and_body_given() {
    let (mut served, url) = Outage::serve(&[
        "status",
        "--code",
        "503",
        "--header",
        "Retry-After: 2",
        "--body",
        "busy",
    ]);
    let client = client();
    let response = client
        .get(format!("{url}/health"))
        .send()
        .await
        .expect("status answers");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.text().await.expect("a whole body"), "busy");
    // The attempt ends, and its line is printed, when the connection closes.
    drop(client);
    let line = served.stderr_line("\"GET /health HTTP/1.1\"");
    assert!(line.contains("answered 503"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_routes_prints_the_route_each_attempt_took() {
    let (mut served, url) = Outage::serve(&[
        "routes",
        "--route",
        "/api/*=status --code 503",
        "--route",
        "/health=ok",
    ]);
    assert_eq!(get(&format!("{url}/api/users")).await.0, 503);
    assert_eq!(get(&format!("{url}/health")).await.0, 200);
    assert_eq!(get(&format!("{url}/other")).await.0, 404);
    let api = served.stderr_line("\"GET /api/users HTTP/1.1\"");
    assert!(api.contains("\" route /api/* answered 503:"), "{api}");
    let other = served.stderr_line("\"GET /other HTTP/1.1\"");
    assert!(other.contains("\" route fallback answered 404:"), "{other}");
}

#[rstest]
#[case::sigterm("TERM")]
#[case::sigint("INT")]
fn serve_exits_0_on_a_signal(#[case] signal: &str) {
    let (served, _url) = Outage::serve(&["hang"]);
    served.signal(signal);
    let (status, _, stderr) = served.finish();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn serve_exits_0_on_sigterm_with_a_kept_alive_connection_open() {
    let (mut served, url) = Outage::serve(&["ok"]);
    // Two requests on one connection: the first attempt ends, kept alive, when
    // the second arrives, and the connection is still open at the signal.
    let mut stream = TcpStream::connect_timeout(&addr_of(&url), BOUND).expect("ok accepts");
    stream
        .set_read_timeout(Some(BOUND))
        .expect("a read timeout can be set");
    for _ in 0..2 {
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: outage\r\n\r\n")
            .expect("the request is sent");
        let mut response = Vec::new();
        while !response.ends_with(b"\r\n\r\nok\n") {
            let mut buffer = [0; 1024];
            let read = stream.read(&mut buffer).expect("the response arrives");
            assert_ne!(read, 0, "the connection closed after {response:?}");
            response.extend_from_slice(&buffer[..read]);
        }
    }
    let line = served.stderr_line("#0 ");
    assert!(line.contains("kept alive"), "{line}");
    served.signal("TERM");
    let (status, _, stderr) = served.finish();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    // The process is gone, so the connection ends at once: with a FIN or a reset, not a timeout.
    if let Err(error) = stream.read_to_end(&mut Vec::new()) {
        let kind = error.kind();
        assert!(
            kind != ErrorKind::WouldBlock && kind != ErrorKind::TimedOut,
            "{error}"
        );
    }
}

#[test]
fn serve_with_an_unknown_fault_exits_2_and_suggests_the_nearest() {
    let (status, stdout, stderr) = outage(&["serve", "rest"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(stdout, "");
    let expected = format!(
        "outage: unknown fault \"rest\"; did you mean \"reset\"?; expected one of {}",
        outage::fault::names().join(", ")
    );
    assert_eq!(stderr, expected);
}

#[test]
fn serve_with_an_unknown_option_exits_2_and_names_the_valid_ones() {
    let (status, _, stderr) = outage(&["serve", "status", "--cod", "503"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        "outage: unknown option \"--cod\" for status; did you mean \"--code\"?; \
         expected one of --code, --header, --headers, --body, --retry-after, --retry-after-date"
    );
}

#[test]
fn serve_with_an_option_for_a_fault_without_options_says_it_takes_none() {
    let (status, _, stderr) = outage(&["serve", "hang", "--code", "503"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        "outage: unknown option \"--code\" for hang; hang takes no options"
    );
}

#[rstest]
#[case::not_a_number(&["status", "--code", "abc"], "bad value for status --code: invalid type: string \"abc\"")]
#[case::not_a_duration(&["slow-headers", "--delay", "forever"], "bad value for slow-headers --delay")]
#[case::not_a_when(&["reset", "--when", "later"], "unknown variant `later`")]
#[case::missing_value(&["status", "--code"], "option \"--code\" is missing its value")]
#[case::value_swallowing_an_option(&["status", "--code", "--body", "x"], "option \"--code\" is missing its value")]
#[case::stray_word(&["status", "503"], "unexpected \"503\"")]
#[case::given_twice(&["status", "--code", "500", "--code", "503"], "option \"--code\" is given twice")]
#[case::header_without_colon(&["status", "--header", "Retry-After"], "bad value \"Retry-After\" for --header")]
#[case::invalid_combination(&["truncate", "--length", "10", "--sent", "20"], "invalid truncate fault")]
#[case::unknown_fault_in_a_step(&["sequence", "--step", "rest"], "in --step \"rest\": unknown fault \"rest\"")]
#[case::bad_port(&["ok", "--port", "http"], "--port")]
#[case::bad_port_after_an_option(&["ok", "--body", "x", "--port", "http"], "bad value \"http\" for --port")]
fn serve_with_a_bad_argument_exits_2_and_says_which(#[case] args: &[&str], #[case] expected: &str) {
    let (status, stdout, stderr) = outage(&[&["serve"], args].concat());
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(expected),
        "{stderr:?} does not contain {expected:?}"
    );
}

#[test]
fn serve_write_ca_for_a_plain_fault_exits_2_and_says_to_add_tls() {
    let (status, stdout, stderr) = outage(&["serve", "reset", "--write-ca", "ca.pem"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "outage: reset serves plain HTTP, so it has no CA to write; \
         add --tls to serve it behind TLS"
    );
}

#[rstest]
#[case::refuse(
    "refuse",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::blackhole(
    "blackhole",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::wrong_port(
    "wrong-port",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::tls_fault("tls-self-signed", "it is a TLS fault, served on an https URL already")]
fn serve_tls_on_a_fault_that_cannot_take_it_exits_2_and_says_why(
    #[case] fault: &str,
    #[case] why: &str,
) {
    let (status, stdout, stderr) = outage(&["serve", fault, "--tls"]);
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!("outage: --tls does not apply to \"{fault}\": {why}; leave out --tls")
    );
}

/// A path for a CA file that no other test uses, removed when dropped.
struct CaPath(std::path::PathBuf);

impl CaPath {
    fn new(test: &str) -> CaPath {
        let name = format!("outage-cli-{test}-{}.pem", std::process::id());
        CaPath(std::env::temp_dir().join(name))
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("the temporary directory is UTF-8")
    }

    /// A client that trusts only the CA in this file, which must exist.
    fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.0).expect("the CA file is written before the URL");
        let ca = reqwest::Certificate::from_pem(&pem).expect("the file holds a PEM certificate");
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .tls_certs_only([ca])
            .timeout(BOUND)
            .build()
            .expect("a client trusting one CA builds")
    }
}

impl Drop for CaPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_tls_ok_writes_the_ca_before_printing_an_https_url() {
    let ca = CaPath::new("tls-ok");
    let (served, url) = Outage::serve(&["tls-ok", "--write-ca", ca.arg()]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let response = ca
        .client()
        .get(&url)
        .send()
        .await
        .expect("a trusted server");
    assert_eq!(response.status(), 200);
    served.signal("TERM");
    assert!(served.finish().0.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_with_tls_serves_any_fault_behind_tls() {
    let ca = CaPath::new("status-tls");
    let (mut served, url) =
        Outage::serve(&["status", "--tls", "--code", "503", "--write-ca", ca.arg()]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let response = ca
        .client()
        .get(&url)
        .send()
        .await
        .expect("a trusted server");
    assert_eq!(response.status(), 503);
    drop(response);
    let line = served.stderr_line("answered 503");
    assert!(
        line.contains("TLS handshake done (TLSv1_3); answered 503"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_sequence_applies_each_step_to_one_attempt() {
    let (mut served, url) = Outage::serve(&[
        "sequence",
        "--step",
        "reset",
        "--step",
        "status --code 503",
        "--step",
        "ok",
    ]);
    let client = client();
    let first = client.get(&url).send().await;
    assert!(first.is_err(), "the first attempt is reset: {first:?}");
    let second = client
        .get(&url)
        .send()
        .await
        .expect("the second attempt answers");
    assert_eq!(second.status(), 503);
    for _ in 0..2 {
        let last = client
            .get(&url)
            .send()
            .await
            .expect("the last step repeats");
        assert_eq!(last.status(), 200);
    }
    let line = served.stderr_line("#0 ");
    assert!(line.contains("server reset (RST)"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_sequence_without_steps_uses_the_default_steps() {
    let (_served, url) = Outage::serve(&["sequence"]);
    let client = client();
    assert!(client.get(&url).send().await.is_err());
    assert_eq!(client.get(&url).send().await.expect("503").status(), 503);
    assert_eq!(client.get(&url).send().await.expect("200").status(), 200);
}

#[test]
fn serve_refuse_prints_a_url_whose_port_refuses_connections() {
    let (_served, url) = Outage::serve(&["refuse"]);
    let error = TcpStream::connect_timeout(&addr_of(&url), BOUND).expect_err("nothing listens");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_wrong_port_tells_stderr_where_the_healthy_server_listens() {
    let (mut served, url) = Outage::serve(&["wrong-port"]);
    let error = TcpStream::connect_timeout(&addr_of(&url), BOUND).expect_err("the url is refused");
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    let line = served.stderr_line("healthy server actually listens on ");
    let real = line
        .rsplit(' ')
        .next()
        .expect("the line ends with the address");
    let response = client()
        .get(format!("http://{real}"))
        .send()
        .await
        .expect("the moved server answers");
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_listens_on_the_port_given_after_the_fault() {
    // A port the OS just handed out and took back can be taken by someone
    // else before outage binds it; try a few before calling it a failure.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let served = Outage::spawn(&[
            "serve",
            "status",
            "--code",
            "418",
            "--port",
            &port.to_string(),
        ]);
        let Ok(url) = served.stdout.recv_timeout(BOUND) else {
            let (_, _, stderr) = served.finish();
            assert!(stderr.contains("cannot listen on"), "{stderr}");
            continue;
        };
        assert_eq!(url, format!("http://127.0.0.1:{port}"));
        assert_eq!(
            client()
                .get(&url)
                .send()
                .await
                .expect("status answers")
                .status(),
            418
        );
        return;
    }
    panic!("every port tried was taken");
}

#[test]
fn serve_on_a_port_in_use_exits_2() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a listener on a free port");
    let port = taken
        .local_addr()
        .expect("a bound address")
        .port()
        .to_string();
    let (status, stdout, stderr) = outage(&["serve", "--port", &port, "ok"]);
    assert_eq!(status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!("outage: cannot listen on 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert!(stderr.contains("pick another --port"), "{stderr}");
}

#[test]
fn list_prints_every_fault() {
    let (status, stdout, _) = outage(&["list"]);
    assert!(status.success());
    for name in outage::fault::names() {
        assert!(
            stdout.lines().any(|line| line == name),
            "{name} is not on a line of its own:\n{stdout}"
        );
    }
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 100,
            "{line:?} is wider than 100 columns"
        );
    }
}

#[test]
fn list_names_prints_only_the_names_one_per_line() {
    let (status, stdout, _) = outage(&["list", "--names"]);
    assert!(status.success());
    assert_eq!(stdout, outage::fault::names().join("\n"));
}

#[test]
fn list_json_gives_every_fault_with_its_parameters() {
    let (status, stdout, _) = outage(&["list", "--json"]);
    assert!(status.success());
    let faults: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
    let names: Vec<&str> = faults.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, outage::fault::names());
    let truncate = faults
        .iter()
        .find(|f| f["name"] == "truncate")
        .expect("truncate");
    assert_eq!(
        truncate["parameters"],
        serde_json::json!(["length", "sent"])
    );
}

#[test]
fn serve_help_after_a_fault_lists_its_options() {
    let (status, stdout, _) = outage(&["serve", "reset", "--help"]);
    assert!(status.success());
    assert!(stdout.starts_with("reset\n"), "{stdout}");
    assert!(
        stdout.contains("Options: --when after-request, --body-bytes 100"),
        "{stdout}"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let (status, stdout, _) = outage(&["--help"]);
    assert!(status.success());
    assert!(stdout.contains("Exit codes:\n  0  success"), "{stdout}");
    assert!(stdout.contains("  2  nothing could run"), "{stdout}");
}

/// What a client with short timeouts makes of `url`: its error class, or the
/// status and body length it got, and how long that took. Every fault at its
/// defaults either answers within milliseconds or stalls for at least four and
/// a half seconds (drip's ten bytes at half-second intervals; slow-headers and
/// slow-close wait five), so the two-second connect and read timeouts and the
/// three-second total leave a loaded machine two seconds to answer and still
/// end each stall well before the fault itself would. It trusts the server's
/// CA (`ca_pem`) and nothing else: no system trust store plays a part, and
/// none is loaded, which takes tens of milliseconds per client in a debug
/// build and would hold up the other checks running on the same workers.
async fn outcome(url: &str, ca_pem: Option<Vec<u8>>) -> (String, Duration) {
    let ca = ca_pem.map(|pem| reqwest::Certificate::from_pem(&pem).unwrap());
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .tls_certs_only(ca)
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let start = Instant::now();
    let outcome = match crate::support::fetch(&client, url).await {
        Ok((status, body)) => format!("{} with {} bytes", status.as_u16(), body.len()),
        Err(error) => outage::classify(&error).to_string(),
    };
    (outcome, start.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_with_its_defaults_fails_the_same_way_through_serve_as_through_the_library() {
    // Eight faults at a time: thirty processes starting at once on a busy
    // machine can starve a client past its timeouts.
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut checks = tokio::task::JoinSet::new();
    for name in outage::fault::names() {
        let permits = permits.clone();
        checks.spawn(async move {
            // The semaphore is never closed.
            let _permit = permits.acquire_owned().await.expect("semaphore is open");
            let fault = outage::Fault::named(name).unwrap();
            let ca = fault
                .is_tls()
                .then(|| CaPath::new(&format!("parity-{name}")));
            let mut args = vec![name.to_owned()];
            if let Some(ca) = &ca {
                args.extend(["--write-ca".to_owned(), ca.arg().to_owned()]);
            }
            // Reading the first line blocks, so it runs off the async workers.
            let (process, url) = tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Outage::serve(&args)
            })
            .await
            .unwrap();
            let served_ca = ca.as_ref().map(|ca| std::fs::read(&ca.0).unwrap());
            let server = crate::support::start(fault).await;
            let library_url = server.url();
            let library_ca = server.ca_pem().map(|pem| pem.as_bytes().to_vec());
            let (served, library) =
                tokio::join!(outcome(&url, served_ca), outcome(&library_url, library_ca));
            // Killing and reaping the process blocks, so it runs off the async workers.
            tokio::task::spawn_blocking(move || drop(process))
                .await
                .unwrap();
            (name, served, library)
        });
    }
    let differences: Vec<String> = checks
        .join_all()
        .await
        .into_iter()
        .filter(|(_, served, library)| served.0 != library.0)
        .map(|(name, served, library)| {
            format!(
                "{name}: outage serve gave {} after {:?}, the library {} after {:?}",
                served.0, served.1, library.0, library.1
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "outage serve and the library differ:\n{}",
        differences.join("\n")
    );
}

#[test]
fn run_exits_0_when_every_scenario_passes_and_prints_the_table() {
    let (status, stdout, _) = outage(&[
        "run",
        "scenarios/http/ok-reqwest.toml",
        "scenarios/connect/refuse-reqwest.toml",
    ]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("scenario "), "{stdout}");
    assert!(stdout.contains("http/ok-reqwest"), "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed, 0 broken"), "{stdout}");
}

#[test]
fn run_exits_1_when_a_scenario_fails_and_writes_junit() {
    let junit = std::env::temp_dir().join(format!("outage-junit-{}.xml", std::process::id()));
    let junit_arg = junit.to_string_lossy().into_owned();
    let (status, stdout, _) = outage(&[
        "run",
        "fixtures/scenarios/must-fail/swallows-the-error.toml",
        "scenarios/http/ok-reqwest.toml",
        "--junit",
        &junit_arg,
    ]);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL fixtures/scenarios/must-fail/swallows-the-error"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file was written");
    let _ = std::fs::remove_file(&junit);
    assert!(
        xml.contains("tests=\"2\"") && xml.contains("failures=\"1\""),
        "{xml}"
    );
}

#[test]
fn run_exits_2_when_nothing_could_run() {
    let (status, stdout, _) = outage(&["run", "fixtures/scenarios/invalid/unknown_fault.toml"]);
    assert_eq!(status.code(), Some(2), "a file that cannot load: {stdout}");
    assert!(
        stdout.contains("unknown_fault.toml:2:18: unknown fault \"rest\""),
        "{stdout}"
    );
}

#[test]
fn run_with_a_filter_that_matches_nothing_says_how_many_files_it_searched() {
    let found = std::fs::read_dir("scenarios/http")
        .expect("the catalogue's http folder")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    let (status, _, stderr) = outage(&["run", "scenarios/http", "--filter", "no-such-scenario"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "outage: --filter \"no-such-scenario\" matched none of the {found} scenario files \
             found in scenarios/http; it keeps scenarios whose name contains it, and a name is \
             the file's path without .toml, such as \"http/bad-encoding-aiohttp\": \
             give part of one, or leave --filter out"
        )
    );
}

#[test]
fn run_with_a_junit_path_it_cannot_write_stops_before_running_anything() {
    let started = Instant::now();
    let (status, stdout, stderr) = outage(&["run", "scenarios", "--junit", "tests"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr.trim_end(),
        "outage: cannot write the JUnit report to tests; give --junit a file in a folder \
         that exists: Is a directory (os error 21)"
    );
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
}

#[test]
fn run_whose_reader_leaves_early_exits_as_its_scenarios_went() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outage"))
        .args(["run", "scenarios/http/bad-encoding-curl-not-decoding.toml"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the outage binary starts");
    // The reader is gone before the report is written.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr is read to its end");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            break status;
        }
        assert!(started.elapsed() < BOUND, "outage run did not exit");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn partitions_deal_every_scenario_to_exactly_one_share() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let quick = "description = \"x\"\nfault = \"ok\"\n\
        client = { run = [\"sh\", \"-c\", \"exit 0\"] }\n[expect]\nexit = 0\n";
    for name in ["a", "b", "c", "d", "e"] {
        std::fs::write(folder.path().join(format!("{name}.toml")), quick).expect("written");
    }
    let dir = folder.path().to_str().expect("a UTF-8 path");
    let mut shares = Vec::new();
    for share in ["1/3", "2/3", "3/3"] {
        let args = ["run", dir, "--partition", share, "--format", "json"];
        let (status, stdout, stderr) = outage(&args);
        assert_eq!(status.code(), Some(0), "{share}: {stderr}");
        let reports: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
        let names: Vec<String> = reports
            .iter()
            .map(|r| {
                r["name"]
                    .as_str()
                    .expect("a name")
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        shares.push(names);
    }
    assert_eq!(shares, [vec!["a", "d"], vec!["b", "e"], vec!["c"]]);
    let (status, _, stderr) = outage(&["run", dir, "--partition", "4/3"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("write K/N with 1 <= K <= N"), "{stderr}");
}

#[test]
fn run_filters_by_name_and_prints_json() {
    let (status, stdout, _) = outage(&[
        "run",
        "scenarios/http",
        "--filter",
        "ok-reqwest",
        "--format",
        "json",
    ]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    let reports: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let names: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["http/ok-reqwest"]);
    assert_eq!(reports[0]["verdict"], "passed");
    assert_eq!(reports[0]["observed"]["attempt_count"], 1);
}

#[test]
fn run_outside_a_catalogue_says_what_is_missing() {
    let elsewhere = tempfile::tempdir().expect("a temporary folder");
    let (status, _, stderr) = Outage::spawn_in(elsewhere.path(), &["run"]).finish();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("outage: no file or folder scenarios in "),
        "{stderr}"
    );
    assert!(stderr.contains("outage run path/to/scenarios"), "{stderr}");
}

#[test]
fn explain_carries_its_catalogue_to_any_folder() {
    let elsewhere = tempfile::tempdir().expect("a temporary folder");
    let (status, stdout, _) = Outage::spawn_in(elsewhere.path(), &["explain", "truncate"]).finish();
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("ChunkedEncodingError"), "{stdout}");
    assert!(stdout.contains("(stream/truncate-requests)"), "{stdout}");
    assert!(!stdout.contains("no scenario in"), "{stdout}");
}

#[test]
fn explain_reads_a_folder_of_scenarios_whose_clients_are_not_installed_here() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let scenario = "description = \"x\"\nfault = \"truncate\"\n\
        client = { run = [\"no-such-client-program\", \"{url}\"] }\n\
        [expect]\nerror = \"shop.PartialBody\"\n";
    std::fs::write(folder.path().join("mine.toml"), scenario).expect("the scenario is written");
    let dir = folder.path().to_str().expect("a UTF-8 path");
    let (status, stdout, _) = outage(&["explain", "truncate", "--scenarios", dir]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("raises shop.PartialBody"), "{stdout}");
    assert!(!stdout.contains("ChunkedEncodingError"), "{stdout}");
}

#[test]
fn explain_separates_variants_and_shows_retries() {
    let (status, stdout, _) = outage(&["explain", "reset"]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    let headings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  reset"))
        .collect();
    assert_eq!(
        headings,
        [
            "  reset:",
            "  reset with body-bytes = 100, when = \"after-body-bytes\":",
            "  reset with when = \"after-upstream\", in front of a real upstream:",
            "  reset with when = \"on-accept\":",
            "  reset, behind TLS:",
        ],
        "{stdout}"
    );
    let (_, stdout, _) = outage(&["explain", "sequence"]);
    assert!(
        stdout.contains("status 200, in 3 attempts, gaps 0.200s ×2\n"),
        "{stdout}"
    );
    let (_, stdout, _) = outage(&["explain", "ok"]);
    assert!(stdout.contains("\n  ok, over HTTP/2:\n"), "{stdout}");
    assert!(
        stdout.contains("\n  ok, over HTTP/2, behind TLS:\n"),
        "{stdout}"
    );
}

#[test]
fn explain_draws_what_clients_raise_from_the_catalogue() {
    let (status, stdout, _) = outage(&["explain", "reset"]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    for part in [
        "On the wire:",
        "What clients raise:",
        "requests.exceptions.ConnectionError",
        "CURLE_RECV_ERROR",
        "How to handle it:",
    ] {
        assert!(stdout.contains(part), "missing {part:?}:\n{stdout}");
    }
    let (status, _, stderr) = outage(&["explain", "rest"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("did you mean \"reset\""), "{stderr}");
}

/// Runs curl with `args` (bounded by `--max-time 5`), and returns its exit
/// code and what it printed on stderr.
fn curl(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "5", "-o", "/dev/null"])
        .args(args)
        .output()
        .expect("curl runs (make clients installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[test]
fn serve_h2_reset_stream_makes_curl_exit_with_its_stream_error() {
    let (mut served, url) = Outage::serve(&["h2-reset-stream", "--code", "enhance-your-calm"]);
    let (code, stderr) = curl(&["--http2-prior-knowledge", &url]);
    assert_eq!(code, Some(92), "{stderr}");
    assert!(stderr.contains("ENHANCE_YOUR_CALM"), "{stderr}");
    let line = served.stderr_line("\"GET / HTTP/2\"");
    assert!(
        line.contains("stream 1, sent RST_STREAM(enhance-your-calm)"),
        "{line}"
    );
    // Without prior knowledge curl speaks HTTP/1.1, and is told what to do.
    let (code, stderr) = curl(&["--fail", &url]);
    assert_eq!(code, Some(22), "{stderr}");
    served.stderr_line("needs HTTP/2, and the client spoke HTTP/1.1; answered 505");
}

#[test]
fn serve_http2_over_tls_is_chosen_by_alpn() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    let (mut served, url) = Outage::serve(&["ok", "--tls", "--http2", "--write-ca", ca]);
    let (code, stderr) = curl(&["--cacert", ca, &url]);
    assert_eq!(code, Some(0), "{stderr}");
    served.stderr_line("\"GET / HTTP/2\"");
    let (code, stderr) = curl(&["--http1.1", "--cacert", ca, &url]);
    assert_eq!(code, Some(0), "{stderr}");
    served.stderr_line("\"GET / HTTP/1.1\"");
}
