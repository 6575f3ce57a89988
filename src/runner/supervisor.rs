//! A supervisor between the runner and each program it starts (a client, or
//! an upstream service), so that nothing the program starts can leave its
//! tree, however it detaches. What follows says "the client" for either.
//!
//! The runner forks as usual; in that child, before exec, [`split`] forks
//! once more. The grandchild execs the client program, in a process group of
//! its own. The child stays behind as the client's supervisor: it marks
//! itself a child subreaper (`PR_SET_CHILD_SUBREAPER`), so every process
//! orphaned in the client's tree (a double fork, a `setsid` daemon) is
//! re-parented to it rather than to init, and walking the supervisor's
//! descendants ([`super::tree`]) finds them all. It keeps no descriptor but
//! a pipe to the runner, ignores every signal it can, reaps whatever it
//! inherits (so no zombie piles up), writes the client's wait status to the
//! pipe when the client exits, and exits once it has no child left.
//!
//! This needs no privilege and no cgroup, so it works the same in a
//! container, in CI and on a laptop.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;

use nix::fcntl::OFlag;
use nix::libc;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::process::Command;

/// Where the supervisor reports the client's wait status.
pub(crate) struct Report {
    read: OwnedFd,
    /// The supervisor's end, held only until the program has started.
    write: Option<OwnedFd>,
}

impl Report {
    /// Makes `command` start through a supervisor.
    pub(crate) fn supervise(command: &mut Command) -> io::Result<Report> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let fd = write.as_raw_fd();
        // SAFETY: `split` makes only async-signal-safe system calls and
        // allocates nothing; see its comments.
        unsafe {
            command.pre_exec(move || split(fd));
        }
        Ok(Report {
            read,
            write: Some(write),
        })
    }

    /// Called once the program has started: from now on only the
    /// supervisor holds the writing end, so the pipe ends when it does.
    pub(crate) fn started(&mut self) {
        self.write = None;
    }

    /// The program's exit status, once it has exited; `None` if the
    /// supervisor died first (only SIGKILL can do that).
    pub(crate) async fn exited(self) -> Option<ExitStatus> {
        use std::os::unix::process::ExitStatusExt;
        let mut receiver = pipe::Receiver::from_owned_fd(self.read).ok()?;
        let mut raw = [0u8; 4];
        receiver.read_exact(&mut raw).await.ok()?;
        Some(ExitStatus::from_raw(i32::from_ne_bytes(raw)))
    }
}

/// In the forked child, between fork and exec. Returns in the client, which
/// std then execs; never returns in the supervisor.
fn split(report: RawFd) -> io::Result<()> {
    // SAFETY: raw system calls on values owned by this process; after the
    // fork this process has one thread, and nothing here allocates.
    unsafe {
        check(libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))?;
        // Out of the runner's process group: a Ctrl-C in the terminal is
        // the runner's to handle, and it ends the clients itself.
        check(libc::setpgid(0, 0))?;
        let client = check(libc::fork())?;
        if client == 0 {
            // The client, in a group of its own as before. The report pipe
            // is close-on-exec, so the program never sees it.
            check(libc::setpgid(0, 0))?;
            return Ok(());
        }
        reap(client, report)
    }
}

/// The supervisor's life: reap until no child is left.
unsafe fn reap(client: libc::pid_t, report: RawFd) -> ! {
    // SAFETY: as in `split`.
    unsafe {
        // Only the runner or SIGKILL may end the supervisor.
        for signal in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGTERM,
            libc::SIGPIPE,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGALRM,
        ] {
            libc::signal(signal, libc::SIG_IGN);
        }
        // Keep only the report pipe: the client's output pipes must end
        // with the client's tree, and std's exec-error pipe must close for
        // the runner's spawn to return.
        close_from(0, report);
        close_from(report + 1, libc::c_int::MAX);
        let mut status: libc::c_int = 0;
        loop {
            let pid = libc::waitpid(-1, &mut status, 0);
            if pid == client {
                let raw = status.to_ne_bytes();
                libc::write(report, raw.as_ptr().cast(), raw.len());
                libc::close(report);
            } else if pid == -1 && *libc::__errno_location() != libc::EINTR {
                // ECHILD: the client and everything it started are gone.
                libc::_exit(0);
            }
        }
    }
}

/// Closes every descriptor from `first` to `end` (excluded).
unsafe fn close_from(first: libc::c_int, end: libc::c_int) {
    if first >= end {
        return;
    }
    // SAFETY: closing descriptors this process owns.
    unsafe {
        let last = (end - 1) as libc::c_uint;
        if libc::syscall(libc::SYS_close_range, first as libc::c_uint, last, 0) != 0 {
            // Kernels before 5.9 have no close_range.
            let limit = libc::sysconf(libc::_SC_OPEN_MAX).clamp(1024, 1 << 16) as libc::c_int;
            for fd in first..end.min(limit) {
                libc::close(fd);
            }
        }
    }
}

fn check<T: Into<i64> + Copy>(result: T) -> io::Result<T> {
    if result.into() == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}
