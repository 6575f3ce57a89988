//! Hostile scenario files and folders: binary and huge files, nesting past
//! what TOML parsing allows, hundreds of thousands of errors, symlink loops,
//! `..` links, and paths that are not files at all (`/dev/zero`, a FIFO, a
//! socket, a folder). Each gives a clear, located message, exits 2 when
//! nothing could run, never hangs or panics, and leaves nothing behind.

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use super::guard::Sandbox;

/// How long one `outage run` over hostile files may take; a run that hangs
/// or loops is killed then and the test fails.
const BOUND: Duration = Duration::from_secs(10);

/// A scenario that passes at once against a healthy server.
const PASSING: &str = r#"description = "a healthy server answers 200"
fault = "ok"
client = { reqwest = { connect-timeout = "500ms", total-timeout = "3s" } }

[expect]
status = 200
"#;

/// What one `outage` run ended with.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Ran {
    /// The reasons printed under each `BROKEN` scenario, line by line.
    fn reasons(&self) -> Vec<&str> {
        let mut reasons = Vec::new();
        let mut under_broken = false;
        for line in self.stdout.lines() {
            if line.starts_with("BROKEN ") {
                under_broken = true;
            } else if let Some(reason) = line.strip_prefix("  ").filter(|_| under_broken) {
                reasons.push(reason);
            } else {
                under_broken = false;
            }
        }
        reasons
    }

    /// Panics unless the run ended on its own with `code` and without a panic.
    fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// Runs `outage ARGS...` in `sandbox`, killing it and failing the test if it
/// is still running after `within`.
fn outage(sandbox: &Sandbox, args: &[&str], within: Duration) -> Ran {
    let start = Instant::now();
    let mut child = sandbox
        .outage(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("outage starts");
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("outage can be waited for") {
            break status;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("outage {args:?} still running after {within:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code: status.code(),
        stdout: stdout.join().expect("stdout is read"),
        stderr: stderr.join().expect("stderr is read"),
        took: start.elapsed(),
    }
}

/// Reads a pipe to its end on a thread of its own, so a full pipe never
/// stalls the process writing to it.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(path, contents).expect("a file in the test's own folder");
    path.to_owned()
}

#[test]
fn a_binary_file_is_refused_as_not_utf8_at_its_first_bad_byte() {
    let sandbox = Sandbox::new();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let path = write(&sandbox.files().join("image.toml"), png);
    let ran = outage(&sandbox, &["run", text(&path)], BOUND);
    ran.assert_exit(2);
    assert_eq!(
        ran.reasons(),
        [format!(
            "{}:1:1: not UTF-8 text: byte 0x89 cannot start a character here; \
             a scenario file is TOML, which is UTF-8: check that this is the right file",
            path.display()
        )]
    );
    sandbox.assert_clean();
}

#[test]
fn a_file_over_a_mebibyte_is_refused_without_being_read() {
    let sandbox = Sandbox::new();
    let path = sandbox.files().join("huge.toml");
    // A sparse file: its length is what matters, and it takes no disk space.
    let file = std::fs::File::create(&path).expect("a file in the test's own folder");
    file.set_len(64 << 20).expect("a sparse file");
    let ran = outage(&sandbox, &["run", text(&path)], BOUND);
    ran.assert_exit(2);
    assert_eq!(
        ran.reasons(),
        [format!(
            "{}: file of 67108864 bytes is larger than a scenario file may be (at most 1048576 bytes); \
             a scenario is a few lines of TOML: check that this is the right file",
            path.display()
        )]
    );
    sandbox.assert_clean();
}

#[test]
fn nesting_past_what_toml_parsing_allows_gives_located_errors() {
    let sandbox = Sandbox::new();
    let dir = sandbox.files();
    let header = write(
        &dir.join("header.toml"),
        format!("description = \"x\"\n\n[{}]\n", vec!["a"; 20_000].join(".")),
    );
    let arrays = write(
        &dir.join("arrays.toml"),
        format!("x = {}{}\n", "[".repeat(20_000), "]".repeat(20_000)),
    );
    let tables = write(
        &dir.join("tables.toml"),
        format!("x = {}1{}\n", "{a=".repeat(20_000), "}".repeat(20_000)),
    );
    let ran = outage(
        &sandbox,
        &["run", text(&header), text(&arrays), text(&tables)],
        BOUND,
    );
    ran.assert_exit(2);
    assert_eq!(
        ran.reasons(),
        [
            format!(
                "{}:3:1: key \"a.a.a.a.a.a.a.a.a.a…\" has 20000 dotted parts, more than TOML parsing allows (80); \
                 a scenario's keys have at most 3, such as [expect.gaps.exponential]",
                header.display()
            ),
            format!(
                "{}:1:85: not valid TOML: cannot recurse further; max recursion depth met",
                arrays.display()
            ),
            format!(
                "{}:1:245: not valid TOML: cannot recurse further; max recursion depth met",
                tables.display()
            ),
        ]
    );
    sandbox.assert_clean();
}

#[test]
fn two_hundred_thousand_errors_on_one_line_are_reported_quickly_and_capped() {
    const ERRORS: usize = 200_000;
    let sandbox = Sandbox::new();
    let routes = vec!["1"; ERRORS].join(",");
    let path = write(
        &sandbox.files().join("errors.toml"),
        format!(
            "description = \"x\"\nfault = {{ kind = \"routes\", routes = [{routes}] }}\n\
             client = {{ reqwest = {{}} }}\n\n[expect]\nstatus = 200\n"
        ),
    );
    let ran = outage(&sandbox, &["run", text(&path)], BOUND);
    ran.assert_exit(2);
    let reasons = ran.reasons();
    assert_eq!(
        reasons.len(),
        outage::scenario::SHOWN_ERRORS + 1,
        "{reasons:?}"
    );
    assert_eq!(
        reasons[0],
        format!(
            "{}:2:38: invalid type: integer `1`, expected a route such as \
             {{ path = \"/api/*\", fault = \"reset\" }}",
            path.display()
        )
    );
    assert_eq!(reasons[20], "... and 199980 more errors");
    // Locating each error by a scan from the start took minutes here.
    assert!(ran.took < Duration::from_secs(8), "took {:?}", ran.took);
    sandbox.assert_clean();
}

#[test]
fn a_folder_with_links_to_itself_and_its_parent_runs_each_file_once() {
    let sandbox = Sandbox::new();
    let dir = sandbox.files().join("d");
    std::fs::create_dir_all(dir.join("sub")).expect("the test's folders");
    write(&dir.join("a.toml"), PASSING);
    symlink(".", dir.join("self")).expect("a link to the folder itself");
    symlink("..", dir.join("sub/up")).expect("a link to the parent");
    let ran = outage(&sandbox, &["run", text(&dir)], BOUND);
    ran.assert_exit(0);
    assert!(
        ran.stdout.contains("\n1 passed, 0 failed, 0 broken\n"),
        "{}",
        ran.stdout
    );
    sandbox.assert_clean();
}

#[test]
fn one_dot_dot_link_and_a_link_to_a_file_still_run_the_file_once() {
    let sandbox = Sandbox::new();
    let dir = sandbox.files().join("d");
    std::fs::create_dir_all(dir.join("sub")).expect("the test's folders");
    let file = write(&dir.join("a.toml"), PASSING);
    symlink("..", dir.join("sub/up")).expect("a link to the parent");
    symlink("a.toml", dir.join("b.toml")).expect("a link to the file");
    // The same file named three ways: in the folder, through a link, and by hand.
    let ran = outage(&sandbox, &["run", text(&dir), text(&file)], BOUND);
    ran.assert_exit(0);
    assert!(
        ran.stdout.contains("\n1 passed, 0 failed, 0 broken\n"),
        "{}",
        ran.stdout
    );
    sandbox.assert_clean();
}

#[test]
fn dev_zero_is_refused_as_not_a_regular_file() {
    let sandbox = Sandbox::new();
    let ran = outage(&sandbox, &["run", "/dev/zero"], BOUND);
    ran.assert_exit(2);
    assert_eq!(
        ran.reasons(),
        ["/dev/zero: not a regular file but a character device; \
          give a scenario .toml file, or a folder of them"]
    );
    sandbox.assert_clean();
}

#[test]
fn a_fifo_is_refused_without_blocking_given_or_found_in_a_folder() {
    let sandbox = Sandbox::new();
    let dir = sandbox.files().join("d");
    std::fs::create_dir_all(&dir).expect("the test's folder");
    let fifo = dir.join("pipe.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("a FIFO");
    let expected = format!(
        "{}: not a regular file but a FIFO (named pipe); give a scenario .toml file, or a folder of them",
        fifo.display()
    );
    for arg in [&fifo, &dir] {
        let ran = outage(&sandbox, &["run", text(arg)], BOUND);
        ran.assert_exit(2);
        assert_eq!(ran.reasons(), [expected.as_str()]);
    }
    sandbox.assert_clean();
}

#[test]
fn a_socket_is_refused_as_not_a_regular_file() {
    let sandbox = Sandbox::new();
    let path = sandbox.files().join("socket.toml");
    let _listener = std::os::unix::net::UnixListener::bind(&path).expect("a socket file");
    let ran = outage(&sandbox, &["run", text(&path)], BOUND);
    ran.assert_exit(2);
    assert_eq!(
        ran.reasons(),
        [format!(
            "{}: not a regular file but a socket; give a scenario .toml file, or a folder of them",
            path.display()
        )]
    );
    sandbox.assert_clean();
}

#[test]
fn a_folder_loaded_as_a_file_is_refused_as_not_a_regular_file() {
    let sandbox = Sandbox::new();
    let dir = sandbox.files();
    let errors = outage::scenario::load(&dir).expect_err("a folder is not a scenario");
    assert_eq!(
        errors.to_string(),
        format!(
            "{}: not a regular file but a directory; give a scenario .toml file, or a folder of them",
            dir.display()
        )
    );
    sandbox.assert_clean();
}
