//! Processes that descend from one pid, found through the parent pid in
//! `/proc/PID/stat`, and killed together.
//!
//! The root is a client's supervisor ([`super::supervisor`]), a child
//! subreaper: a process orphaned when its parent is killed is re-parented to
//! it, so a second walk finds what the first one missed. Rounds go on until
//! no descendant is left alive; only then is the root itself killed.

use std::collections::HashMap;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Most rounds of walk-and-kill before giving up on a tree; a round takes a
/// few milliseconds, and a killed process is normally gone after one.
const ROUNDS: usize = 200;

/// The pid and parent pid of every live process; zombies are left out, as
/// they hold nothing and can only be reaped.
fn parents() -> HashMap<i32, Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return children;
    };
    for entry in proc.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`, where comm may hold spaces and ')'.
        let mut fields = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace();
        let (Some(state), Some(ppid)) = (fields.next(), fields.next()) else {
            continue;
        };
        if let (false, Ok(ppid)) = (state == "Z" || state == "X", ppid.parse()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    children
}

/// Every live process whose chain of parents reaches `root`, `root` excluded.
pub(crate) fn descendants(root: Pid) -> Vec<Pid> {
    let children = parents();
    let mut found = Vec::new();
    let mut next = vec![root.as_raw()];
    while let Some(parent) = next.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            found.push(Pid::from_raw(child));
            next.push(child);
        }
    }
    found
}

/// One round: SIGKILL every live descendant of `root`. True when none was left.
fn kill_round(root: Pid) -> bool {
    let alive = descendants(root);
    for pid in &alive {
        // A process that is already gone needs nothing more.
        let _ = kill(*pid, Signal::SIGKILL);
    }
    alive.is_empty()
}

/// Kills everything below `root`, then `root`, pausing a millisecond
/// between rounds so the killed processes can exit.
pub(crate) async fn kill_tree(root: Pid) {
    for _ in 0..ROUNDS {
        if kill_round(root) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = kill(root, Signal::SIGKILL);
}

/// [`kill_tree`] without waiting, for `Drop`: a few rounds back to back, then the
/// root. What is still alive after that (only a process that forks faster
/// than it can be killed) is re-parented to the runner's process when it is
/// a subreaper ([`adopt_orphans`]), which ends it before exiting.
pub(crate) fn kill_tree_now(root: Pid) {
    for _ in 0..8 {
        if kill_round(root) {
            break;
        }
        std::thread::yield_now();
    }
    let _ = kill(root, Signal::SIGKILL);
}

/// Makes this process a child subreaper, so that a process which escapes a
/// supervisor (only by killing it) is re-parented here, where
/// [`end_orphans`] finds it. For `outage run`, which owns its process.
pub fn adopt_orphans() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Kills every descendant of this process and reaps every child that has
/// exited. Only for the end of a program: it reaps children that others
/// might be waiting for.
pub fn end_orphans() {
    let me = Pid::this();
    for _ in 0..ROUNDS {
        if kill_round(me) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    while let Ok(status) = waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descendants_of_this_process_include_a_grandchild() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .expect("sh starts");
        let me = Pid::this();
        let child_pid = Pid::from_raw(child.id() as i32);
        let start = std::time::Instant::now();
        // The grandchild appears once sh has forked.
        while descendants(child_pid).is_empty() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let below = descendants(me);
        let grandchildren = descendants(child_pid);
        let _ = child.kill();
        for pid in &grandchildren {
            let _ = nix::sys::signal::kill(*pid, Signal::SIGKILL);
        }
        let _ = child.wait();
        assert!(below.contains(&child_pid), "{below:?}");
        assert_eq!(grandchildren.len(), 1, "{grandchildren:?}");
        assert!(below.contains(&grandchildren[0]), "{below:?}");
    }
}
