//! Starting, stopping and dropping servers: nothing leaks, nothing interferes.

use std::net::SocketAddr;
use std::time::Duration;

use outage::{Ending, Fault, FaultServer, fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

use crate::support::{Timeouts, client, fetch, settled, start};

const PLAIN_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_millis(500),
    read: None,
    total: Duration::from_secs(5),
};

/// Longest a test waits for sockets and tasks to be released.
const RELEASE: Duration = Duration::from_secs(5);

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Polls `done` until it holds or `RELEASE` passes; returns whether it held.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + RELEASE;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

async fn is_refused(addr: SocketAddr) -> bool {
    matches!(TcpStream::connect(addr).await, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// Counting descriptors needs a process of its own: other tests running in
/// parallel open and close descriptors too.
#[tokio::test]
async fn starting_and_dropping_1000_servers_leaks_no_descriptor_or_task() {
    let probe = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lifecycle::leak_probe",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .kill_on_drop(true)
        .output();
    let output = timeout(Duration::from_secs(60), probe)
        .await
        .expect("leak probe finished")
        .unwrap_or_else(|e| panic!("cannot run the leak probe as a process: {e}"));
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("1 passed"),
        "the probe must really run: {report}"
    );
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "run alone, in its own process, by starting_and_dropping_1000_servers_leaks_no_descriptor_or_task"]
async fn leak_probe() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let descriptors = open_descriptors();
    let tasks = metrics.num_alive_tasks();
    let names = fault::names();
    for i in 0..1000 {
        let server = start(Fault::named(names[i % names.len()]).unwrap()).await;
        if i % 10 == 0 && server.serving_addr().is_none() {
            // Leave a live connection behind, so its task must end with the server.
            if let Ok(Ok(mut client)) = timeout(
                Duration::from_millis(100),
                TcpStream::connect(server.addr()),
            )
            .await
            {
                let _ = client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
                let _ = timeout(
                    Duration::from_millis(100),
                    server.journal().settled(1, Duration::ZERO),
                )
                .await;
                drop(server);
                continue;
            }
        }
        drop(server);
    }
    let released =
        eventually(|| open_descriptors() <= descriptors && metrics.num_alive_tasks() <= tasks)
            .await;
    assert!(
        released,
        "descriptors {} (were {descriptors}), tasks {} (were {tasks})",
        open_descriptors(),
        metrics.num_alive_tasks()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_servers_in_parallel_each_journal_only_their_own_attempts() {
    let mut clients = JoinSet::new();
    for i in 0..40 {
        clients.spawn(async move {
            let fault = if i % 2 == 0 {
                Fault::ok()
            } else {
                Fault::reset()
            };
            let server = start(fault).await;
            let _ = fetch(
                &client(PLAIN_TIMEOUTS),
                &format!("{}/client/{i}", server.url()),
            )
            .await;
            let attempts = settled(&server, 1).await;
            let targets: Vec<_> = attempts
                .iter()
                .map(|a| a.request.as_ref().map(|r| r.target().to_owned()))
                .collect();
            assert_eq!(targets, vec![Some(format!("/client/{i}"))]);
        });
    }
    while let Some(joined) = clients.join_next().await {
        joined.expect("each parallel client saw only its own server");
    }
}

#[tokio::test]
async fn shutdown_ends_hanging_connections_and_releases_the_port() {
    let server = start(Fault::Hang(Default::default())).await;
    let addr = server.addr();
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let journal = server.journal().clone();
    assert!(
        eventually(|| journal
            .attempts()
            .first()
            .is_some_and(|a| a.request.is_some()))
        .await
    );
    timeout(RELEASE, server.shutdown())
        .await
        .expect("shutdown finishes promptly");
    let attempts = journal.attempts();
    assert_eq!(
        attempts[0].ending,
        Some(Ending::ServerStopped),
        "{}",
        attempts[0]
    );
    let mut rest = Vec::new();
    let read = timeout(RELEASE, client.read_to_end(&mut rest))
        .await
        .expect("the client sees the connection end");
    assert!(read.is_ok_and(|n| n == 0) || rest.is_empty());
    assert!(is_refused(addr).await, "the port is released");
}

#[tokio::test]
async fn dropping_a_server_releases_its_port() {
    for fault in [
        Fault::ok(),
        Fault::refuse(),
        Fault::named("blackhole").unwrap(),
    ] {
        let server = FaultServer::start(fault).await.unwrap();
        let addr = server.addr();
        drop(server);
        let mut released = false;
        let deadline = Instant::now() + RELEASE;
        while !released && Instant::now() < deadline {
            released = is_refused(addr).await;
        }
        assert!(released, "{addr} still taken after drop");
    }
}
