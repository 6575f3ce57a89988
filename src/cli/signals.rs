//! SIGINT and SIGTERM for `outage run`: the first stops the run and lets it
//! report, a second exits at once.
//!
//! Both signals are blocked in every thread and taken by one thread with
//! `sigwait`, so a signal is never lost, whatever the runtime is doing (or
//! after it has stopped, while the report is printed), and never runs code
//! inside a signal handler. Programs started from here get an empty signal
//! mask back: std resets it between fork and exec.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context, Result};
use nix::sys::signal::{SigSet, Signal};
use tokio::sync::watch;

use crate::runner;

/// The signals `outage run` has received.
pub(crate) struct Signals {
    /// The number of the first signal, or 0.
    first: Arc<AtomicI32>,
    /// Its name, once it has come.
    named: watch::Receiver<Option<&'static str>>,
}

impl Signals {
    /// Blocks both signals and starts the thread that takes them. Call it
    /// before starting any other thread, so that every thread inherits the
    /// mask and no signal can reach one that does not block it.
    pub(crate) fn listen() -> Result<Signals> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block()
            .context("cannot block SIGINT and SIGTERM")?;
        let first = Arc::new(AtomicI32::new(0));
        let (name, named) = watch::channel(None);
        let seen = first.clone();
        std::thread::Builder::new()
            .name("signals".to_owned())
            .spawn(move || take(&set, &seen, &name))
            .context("cannot start the thread that takes signals")?;
        Ok(Signals { first, named })
    }

    /// Resolves to the first signal's name, when it comes.
    pub(crate) fn first(&self) -> impl Future<Output = String> + use<> {
        let mut named = self.named.clone();
        async move {
            let name = named.wait_for(Option::is_some).await.map(|n| *n);
            match name {
                Ok(name) => name.unwrap_or_default().to_owned(),
                // The thread that takes signals never ends.
                Err(_) => std::future::pending().await,
            }
        }
    }

    /// The exit code for a run cut short by a signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM), as shells report it.
    pub(crate) fn exit_code(&self) -> Option<u8> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            number => u8::try_from(128 + number).ok(),
        }
    }
}

/// The signal thread's loop: records the first signal and announces it;
/// at the second, ends every process left and exits.
fn take(set: &SigSet, first: &AtomicI32, name: &watch::Sender<Option<&'static str>>) {
    loop {
        let Ok(signal) = set.wait() else { continue };
        let number = signal as i32;
        let called = signal.as_str();
        if first
            .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            eprintln!("outage: {called} again: exiting at once");
            runner::end_orphans();
            std::process::exit(128 + number);
        }
        eprintln!(
            "outage: {called}: stopping the running scenarios, then reporting \
             what finished; send it again to exit at once"
        );
        name.send_replace(Some(called));
    }
}
