//! DNS for a program under test: a [`DnsResponder`] on loopback, and a private
//! mount namespace in which `/etc/resolv.conf` names only that responder.
//!
//! The program is started with `unshare(CLONE_NEWNS)` (with `CLONE_NEWUSER`
//! too when not root, where the kernel allows unprivileged user namespaces),
//! `/` made recursively private so nothing propagates back, and three files
//! bind-mounted over the system's:
//!
//! - `/etc/resolv.conf`: `nameserver 127.X.Y.Z`, the responder, and nothing
//!   else: no search list, glibc's default timeout and attempts;
//! - `/etc/hosts`: `localhost` only, so no scenario name is answered from it;
//! - `/etc/nsswitch.conf`: the system's, with `hosts: files dns`, so no NSS
//!   module (systemd-resolved, mDNS) answers in the responder's place.
//!
//! When `/run/nscd` exists an empty folder covers it, so that glibc cannot
//! hand lookups to a caching daemon that uses the system's resolver. Proxy
//! variables are removed from the program's environment for the same reason.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid, write};

use crate::dns::{DnsResponder, Names, Query, ResponderError};

/// The responder and the files a program's namespace sees.
pub(crate) struct PrivateDns {
    responder: DnsResponder,
    /// Kept until the client has exited: its namespace mounts these files.
    _files: Files,
    plan: Plan,
}

impl PrivateDns {
    /// Starts a responder for `names`, or says why this machine cannot give a
    /// program its own DNS.
    pub(crate) async fn start(names: Names) -> Result<PrivateDns, String> {
        available()?;
        let responder = DnsResponder::start(names).await.map_err(|e| match e {
            ResponderError::Denied(_) => format!("needs a DNS responder on port 53: {e}"),
            ResponderError::Bind(_) => e.to_string(),
        })?;
        let files = Files::write(&responder.ip().to_string())
            .map_err(|e| format!("cannot write the client's resolver files: {e}"))?;
        let plan = Plan::new(&files).map_err(|e| format!("cannot plan the namespace: {e}"))?;
        Ok(PrivateDns {
            responder,
            _files: files,
            plan,
        })
    }

    /// Makes `command` start in the private namespace, without proxy
    /// settings: a proxy would look the name up itself, past the responder.
    pub(crate) fn confine(&self, command: &mut tokio::process::Command) {
        for proxy in PROXY_VARIABLES {
            command.env_remove(proxy);
        }
        let plan = self.plan.clone();
        // SAFETY: `enter` only makes system calls with strings prepared
        // before the fork; it allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(move || plan.enter());
        }
    }

    /// Every query the responder received.
    pub(crate) fn queries(&self) -> Vec<Query> {
        self.responder.queries()
    }
}

/// The environment variables through which clients find a proxy.
const PROXY_VARIABLES: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// Whether programs can be given a private mount namespace here, checked once
/// per process by starting `/bin/sh -c :` in one. It blocks for one fork and
/// exec, once, which is why it may run on an async worker.
fn available() -> Result<(), String> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let files = Files::write("127.0.0.1").map_err(|e| e.to_string())?;
            let plan = Plan::new(&files).map_err(|e| e.to_string())?;
            let mut command = std::process::Command::new("/bin/sh");
            command.args(["-c", ":"]);
            // SAFETY: as in `PrivateDns::confine`.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || plan.enter());
            }
            match command.status() {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(format!("a program in a private mount namespace failed: {status}")),
                Err(e) => Err(format!(
                    "cannot give the client a private mount namespace ({e}); run as root, or allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns=0)"
                )),
            }
        })
        .clone()
}

/// The files bind-mounted in the namespace, in a folder with a random name,
/// removed on drop.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn write(nameserver: &str) -> io::Result<Files> {
        let dir = tempfile::Builder::new().prefix("outage-dns-").tempdir()?;
        std::fs::create_dir(dir.path().join("empty"))?;
        let files = Files { dir };
        std::fs::write(
            files.dir.path().join("resolv.conf"),
            format!(
                "# outage: every lookup goes to this scenario's responder\nnameserver {nameserver}\n"
            ),
        )?;
        std::fs::write(
            files.dir.path().join("hosts"),
            "127.0.0.1 localhost\n::1 localhost\n",
        )?;
        let nsswitch = std::fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
        let mut lines: Vec<&str> = nsswitch
            .lines()
            .filter(|l| !l.trim_start().starts_with("hosts:"))
            .collect();
        lines.push("hosts: files dns");
        std::fs::write(
            files.dir.path().join("nsswitch.conf"),
            lines.join("\n") + "\n",
        )?;
        Ok(files)
    }
}

/// Everything the child needs, as C strings made before the fork.
#[derive(Clone)]
struct Plan {
    /// `/proc/self/uid_map` and `gid_map` lines, when a user namespace is needed.
    user: Option<(CString, CString)>,
    /// Sources and targets of the bind mounts.
    binds: Vec<(CString, CString)>,
}

impl Plan {
    fn new(files: &Files) -> io::Result<Plan> {
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        };
        let mut binds = Vec::new();
        for name in ["resolv.conf", "hosts", "nsswitch.conf"] {
            let target = Path::new("/etc").join(name);
            if target.exists() || name == "resolv.conf" {
                binds.push((c(&files.dir.path().join(name))?, c(&target)?));
            }
        }
        if Path::new("/run/nscd").is_dir() {
            binds.push((
                c(&files.dir.path().join("empty"))?,
                c(Path::new("/run/nscd"))?,
            ));
        }
        let user = (!Uid::effective().is_root()).then(|| {
            let line = |id: u32| CString::new(format!("{id} {id} 1")).expect("digits have no NUL");
            (
                line(Uid::effective().as_raw()),
                line(Gid::effective().as_raw()),
            )
        });
        Ok(Plan { user, binds })
    }

    /// In the child, between fork and exec.
    fn enter(&self) -> io::Result<()> {
        match &self.user {
            Some((uid_map, gid_map)) => {
                unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)?;
                write_file(c"/proc/self/setgroups", b"deny")?;
                write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
                write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
            }
            None => unshare(CloneFlags::CLONE_NEWNS)?,
        }
        // Private first: otherwise a shared `/` would carry the bind mounts
        // back to the system's namespace.
        mount(
            None::<&CStr>,
            c"/",
            None::<&CStr>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&CStr>,
        )?;
        for (source, target) in &self.binds {
            mount(
                Some(source.as_c_str()),
                target.as_c_str(),
                None::<&CStr>,
                MsFlags::MS_BIND,
                None::<&CStr>,
            )?;
        }
        Ok(())
    }
}

fn write_file(path: &CStr, bytes: &[u8]) -> io::Result<()> {
    let fd = open(path, OFlag::O_WRONLY, Mode::empty())?;
    write(&fd, bytes)?;
    Ok(())
}
