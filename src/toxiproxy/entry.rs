//! `Entry`: one proxy of the API, running or disabled, with the toxics it
//! keeps across both.
//!
//! A disabled proxy keeps its [`ToxicProxy`] with the listener and every
//! connection closed; enabling it listens on the same address again, with
//! the same [`Toxics`] and counters, as Toxiproxy restarts its listener. A
//! new address or upstream makes a new `ToxicProxy`.

use std::io;

use crate::journal::Journal;
use crate::proxy::{ProxyStats, ToxicProxy};
use crate::toxic::Toxics;

use super::error::ApiError;
use super::json::ProxyJson;
use super::listen;

/// What a proxy should be: the fields a create or an update gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// The address to listen on, as given.
    pub(crate) listen: String,
    /// The `host:port` to forward to, resolved per connection.
    pub(crate) upstream: String,
    /// Whether it should accept connections.
    pub(crate) enabled: bool,
}

/// One proxy and its toxics.
pub(crate) struct Entry {
    /// Its unique name.
    pub(crate) name: String,
    /// The address it listens on once started (port 0 becomes the real
    /// port), and the address as given before.
    listen: String,
    /// The upstream `host:port`.
    upstream: String,
    /// Its toxics, kept while it is disabled.
    pub(crate) toxics: Toxics,
    /// The proxy, once started at this address and upstream.
    running: Option<ToxicProxy>,
}

impl Entry {
    /// A disabled proxy with no toxics.
    pub(crate) fn new(name: String, listen: String, upstream: String) -> Entry {
        Entry {
            name,
            listen,
            upstream,
            toxics: Toxics::default(),
            running: None,
        }
    }

    /// True while it accepts connections.
    pub(crate) fn enabled(&self) -> bool {
        self.running.as_ref().is_some_and(ToxicProxy::is_enabled)
    }

    /// What it has carried since it was started at this address.
    pub(crate) fn stats(&self) -> ProxyStats {
        self.running
            .as_ref()
            .map(ToxicProxy::stats)
            .unwrap_or_default()
    }

    /// The journal of its `outage` toxic's fault, once a connection met it.
    pub(crate) fn journal(&self) -> Option<Journal> {
        self.running.as_ref().and_then(ToxicProxy::journal)
    }

    /// Starts listening, unless it is already.
    pub(crate) async fn start(&mut self) -> Result<(), ApiError> {
        if let Some(proxy) = &mut self.running {
            let at = proxy.listen();
            return proxy.enable().await.map_err(|error| {
                ApiError::internal(format!("listen tcp {at}: bind: {}", in_go_words(&error)))
            });
        }
        let address = listen::resolve(&self.listen)
            .await
            .map_err(|error| ApiError::internal(format!("listen tcp: {error}")))?;
        let toxics = self.toxics.clone();
        let mut started = ToxicProxy::start(address.bind(), &self.upstream, toxics.clone()).await;
        if let (Err(_), Some(v4)) = (&started, address.bind_v4()) {
            started = ToxicProxy::start(v4, &self.upstream, toxics).await;
        }
        let proxy = started.map_err(|error| {
            let at = address.written();
            ApiError::internal(format!("listen tcp {at}: bind: {}", in_go_words(&error)))
        })?;
        self.listen = proxy.listen().to_string();
        self.running = Some(proxy);
        Ok(())
    }

    /// Closes the listener and every connection, keeping the toxics.
    pub(crate) async fn stop(&mut self) {
        if let Some(proxy) = &mut self.running {
            proxy.disable().await;
        }
    }

    /// Closes it for good, releasing its address.
    pub(crate) async fn close(&mut self) {
        if let Some(proxy) = self.running.take() {
            proxy.shutdown().await;
        }
    }

    /// True when `listen`, once resolved, or `upstream` is not what this
    /// proxy has: Toxiproxy's test for restarting or replacing a proxy.
    pub(crate) async fn differs(&self, listen: &str, upstream: &str) -> Result<bool, ApiError> {
        let wanted = listen::resolve(listen).await.map_err(ApiError::internal)?;
        Ok(wanted.written() != self.listen || upstream != self.upstream)
    }

    /// The settings it has now, onto which an update is merged.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            listen: self.listen.clone(),
            upstream: self.upstream.clone(),
            enabled: self.enabled(),
        }
    }

    /// Moves to `wanted`: restarts on a new address or upstream, then
    /// starts or stops as `enabled` says.
    pub(crate) async fn update(&mut self, wanted: Settings) -> Result<(), ApiError> {
        if self.differs(&wanted.listen, &wanted.upstream).await? {
            self.close().await;
            self.listen = wanted.listen;
            self.upstream = wanted.upstream;
        }
        if wanted.enabled {
            self.start().await
        } else {
            self.stop().await;
            Ok(())
        }
    }

    /// Its JSON, with its toxics.
    pub(crate) fn json(&self) -> ProxyJson {
        ProxyJson::new(
            &self.name,
            &self.listen,
            &self.upstream,
            self.enabled(),
            &self.toxics.list(),
        )
    }
}

/// An OS error as Go words it: `address already in use`, without Rust's
/// capital and `(os error 98)`.
fn in_go_words(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match error.raw_os_error() {
        Some(code) => text
            .trim_end_matches(&format!(" (os error {code})"))
            .to_owned(),
        None => text,
    };
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_in_go() {
        let in_use = io::Error::from_raw_os_error(98);
        assert_eq!(in_go_words(&in_use), "address already in use");
    }

    #[tokio::test]
    async fn a_taken_port_fails_with_gos_message_and_leaves_the_proxy_disabled() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let mut entry = Entry::new("db".into(), format!("localhost:{port}"), "x:1".into());
        let error = entry.start().await.unwrap_err();
        assert_eq!(error.status, 500);
        let expected = format!("listen tcp 127.0.0.1:{port}: bind: address already in use");
        assert_eq!(error.message, expected);
        assert!(!entry.enabled());
    }
}
