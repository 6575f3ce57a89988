//! A tcpdump capture of DNS traffic on every interface, opt-in with
//! `OUTAGE_CAPTURE=1` (`make capture`): the capture is host-wide, so any other
//! program resolving a name meanwhile would show up in it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::skip;

/// A running capture of `port 53` on `any`.
pub struct Capture {
    tcpdump: Child,
    file: PathBuf,
}

/// What a capture held.
pub struct Packets {
    /// Packets with both ends in 127.0.0.0/8.
    pub loopback: usize,
    /// Every other packet, as tcpdump prints it.
    pub outside: Vec<String>,
}

impl Capture {
    /// Starts capturing into `dir`, once tcpdump says it is listening;
    /// `None`, with the reason on the terminal, when it is not asked for or cannot.
    pub async fn start(dir: &Path) -> Option<Capture> {
        if std::env::var_os("OUTAGE_CAPTURE").is_none() {
            skip(
                "packet capture: set OUTAGE_CAPTURE=1 (make capture) on a machine where nothing else resolves names meanwhile",
            );
            return None;
        }
        let file = dir.join("dns.pcap");
        let spawned = Command::new("tcpdump")
            .args(["-i", "any", "-n", "-U", "-w"])
            .arg(&file)
            .arg("port 53")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let mut tcpdump = match spawned {
            Ok(child) => child,
            Err(e) => panic!(
                "OUTAGE_CAPTURE is set, but tcpdump cannot start: {e}; `make clients` installs it"
            ),
        };
        let mut lines = BufReader::new(tcpdump.stderr.take().expect("stderr is piped")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(10), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("listening on") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            listening,
            Ok(true),
            "tcpdump did not start listening within 10s"
        );
        Some(Capture { tcpdump, file })
    }

    /// Stops the capture and reads it back.
    pub async fn stop(mut self) -> std::io::Result<Packets> {
        if let Some(id) = self.tcpdump.id() {
            // SIGTERM, not SIGKILL: tcpdump flushes the file on the way out.
            let _ = kill(Pid::from_raw(id as i32), Signal::SIGTERM);
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.tcpdump.wait()).await;
        let read = Command::new("tcpdump")
            .args(["-n", "-r"])
            .arg(&self.file)
            .output()
            .await?;
        let text = String::from_utf8_lossy(&read.stdout).into_owned();
        let (loopback, outside): (Vec<&str>, Vec<&str>) =
            text.lines().partition(|line| both_ends_loopback(line));
        Ok(Packets {
            loopback: loopback.len(),
            outside: outside.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// True for a tcpdump line `... IP 127.a.b.c.port > 127.d.e.f.port: ...`.
fn both_ends_loopback(line: &str) -> bool {
    let Some((_, rest)) = line.split_once(" IP ") else {
        return false;
    };
    let mut ends = rest.split(' ');
    let from = ends.next().unwrap_or("");
    let to = ends.nth(1).unwrap_or("");
    from.starts_with("127.") && to.starts_with("127.")
}
