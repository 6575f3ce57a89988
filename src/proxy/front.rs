//! The outage fault in front of the upstream: when a proxy's toxics hold an
//! `outage` toxic, its connections go to a [`FaultServer`] for that fault,
//! itself a proxy to the upstream, so the fault acts on each HTTP request
//! while the TCP toxics act on the bytes on their way to it.
//!
//! The fault server starts with the first connection that meets the fault,
//! and is replaced when the fault changes: its open connections close, and
//! its journal starts anew.

use tokio::sync::Mutex;

use crate::fault::Fault;
use crate::journal::Journal;
use crate::server::FaultServer;
use crate::toxic::Toxics;

/// The fault server of a proxy's `outage` toxic, while it has one.
#[derive(Default)]
pub(super) struct Front {
    serving: Mutex<Option<(Fault, FaultServer)>>,
    /// The journal of the fault server now serving, readable without waiting.
    journal: std::sync::Mutex<Option<Journal>>,
}

impl Front {
    /// Where a new connection goes: the upstream, or the fault server for
    /// the `outage` toxic of `toxics`, started or replaced as needed. `None`
    /// when that server cannot start.
    pub(super) async fn route(&self, upstream: &str, toxics: &Toxics) -> Option<String> {
        let mut serving = self.serving.lock().await;
        let Some(fault) = toxics.outage() else {
            *serving = None;
            self.set_journal(None);
            return Some(upstream.to_owned());
        };
        if let Some((current, server)) = serving.as_ref()
            && *current == fault
        {
            return Some(server.addr().to_string());
        }
        *serving = None;
        let server = FaultServer::builder(fault.clone())
            .upstream(upstream)
            .start()
            .await
            .ok()?;
        let address = server.addr().to_string();
        self.set_journal(Some(server.journal().clone()));
        *serving = Some((fault, server));
        Some(address)
    }

    /// The journal of the fault now served, if any.
    pub(super) fn journal(&self) -> Option<Journal> {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_journal(&self, journal: Option<Journal>) {
        *self.journal.lock().unwrap_or_else(|e| e.into_inner()) = journal;
    }
}
