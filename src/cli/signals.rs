//! SIGINT and SIGTERM for `outage run`: the first stops the run and lets it
//! report, a second exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context, Result};
use nix::libc;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::runner;

/// The signals `outage run` has received, listened for on a runtime task
/// for as long as that runtime lives.
pub(crate) struct Signals {
    /// The number of the first signal, or 0.
    first: Arc<AtomicI32>,
    /// Its name, once it has come.
    named: watch::Receiver<Option<&'static str>>,
}

impl Signals {
    /// Starts listening; from now on neither signal ends the process by
    /// default. Must run inside the runtime.
    pub(crate) fn listen() -> Result<Signals> {
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let first = Arc::new(AtomicI32::new(0));
        let (name, named) = watch::channel(None);
        let seen = first.clone();
        tokio::spawn(async move {
            loop {
                let (number, called) = tokio::select! {
                    _ = interrupt.recv() => (libc::SIGINT, "SIGINT"),
                    _ = terminate.recv() => (libc::SIGTERM, "SIGTERM"),
                };
                if seen
                    .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    eprintln!("outage: {called} again: exiting at once");
                    runner::end_orphans();
                    std::process::exit(128 + number);
                }
                eprintln!(
                    "outage: {called}: stopping the running scenarios to report \
                     what finished; send it again to exit at once"
                );
                name.send_replace(Some(called));
            }
        });
        Ok(Signals { first, named })
    }

    /// Resolves to the first signal's name, when it comes.
    pub(crate) fn first(&self) -> impl Future<Output = String> + use<> {
        let mut named = self.named.clone();
        async move {
            let name = named.wait_for(Option::is_some).await.map(|n| *n);
            match name {
                Ok(name) => name.unwrap_or_default().to_owned(),
                // The listener never ends while the runtime lives.
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
