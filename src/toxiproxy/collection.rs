//! `Collection`: every proxy of the API by name, and the changes that start
//! and stop them, in Toxiproxy's terms (`proxy_collection.go`).
//!
//! One lock covers the set; changes that start or stop a listener hold it
//! across the bind and the close, so two requests never race for a port.

use std::collections::BTreeMap;

use tokio::sync::Mutex;

use crate::journal::Attempt;
use crate::proxy::ProxyStats;
use crate::toxic::Toxics;

use super::entry::{Entry, Settings};
use super::error::ApiError;
use super::input::NewProxy;
use super::json::ProxyJson;

/// The proxies, by name.
#[derive(Default)]
pub(crate) struct Collection {
    proxies: Mutex<BTreeMap<String, Entry>>,
}

/// What `populate` did: the proxies made or kept, and the error that
/// stopped it, if one did.
pub(crate) struct Populated {
    /// The proxies created, replaced or kept, in the order given.
    pub(crate) proxies: Vec<ProxyJson>,
    /// The error that stopped it; the proxies before it stay.
    pub(crate) error: Option<ApiError>,
}

impl Collection {
    /// Every proxy, by name.
    pub(crate) async fn list(&self) -> BTreeMap<String, ProxyJson> {
        let proxies = self.proxies.lock().await;
        proxies
            .iter()
            .map(|(name, entry)| (name.clone(), entry.json()))
            .collect()
    }

    /// The proxy called `name`.
    pub(crate) async fn show(&self, name: &str) -> Result<ProxyJson, ApiError> {
        let proxies = self.proxies.lock().await;
        proxies
            .get(name)
            .map(Entry::json)
            .ok_or_else(ApiError::proxy_not_found)
    }

    /// The toxics of the proxy called `name`.
    pub(crate) async fn toxics(&self, name: &str) -> Result<Toxics, ApiError> {
        let proxies = self.proxies.lock().await;
        let entry = proxies.get(name).ok_or_else(ApiError::proxy_not_found)?;
        Ok(entry.toxics.clone())
    }

    /// Adds `proxy`, started unless it says otherwise; fails if its name is
    /// taken or its address cannot be bound.
    pub(crate) async fn create(&self, proxy: NewProxy) -> Result<ProxyJson, ApiError> {
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(&proxy.name) {
            return Err(ApiError::proxy_exists());
        }
        let entry = started(proxy).await?;
        let json = entry.json();
        proxies.insert(entry.name.clone(), entry);
        Ok(json)
    }

    /// Merges what `change` makes of the current settings onto the proxy
    /// called `name`, restarting or stopping it as needed.
    pub(crate) async fn update(
        &self,
        name: &str,
        change: impl FnOnce(Settings) -> Result<Settings, ApiError>,
    ) -> Result<ProxyJson, ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(name)
            .ok_or_else(ApiError::proxy_not_found)?;
        entry.update(change(entry.settings())?).await?;
        Ok(entry.json())
    }

    /// Stops and forgets the proxy called `name`.
    pub(crate) async fn delete(&self, name: &str) -> Result<(), ApiError> {
        let mut proxies = self.proxies.lock().await;
        let mut entry = proxies.remove(name).ok_or_else(ApiError::proxy_not_found)?;
        entry.close().await;
        Ok(())
    }

    /// Creates each proxy of `wanted` in turn. One of the same name, listen
    /// address and upstream is kept as it is (toxics and all); one that
    /// differs is stopped and replaced. Stops at the first error.
    pub(crate) async fn populate(&self, wanted: Vec<NewProxy>) -> Populated {
        let mut proxies = self.proxies.lock().await;
        let mut done = Vec::with_capacity(wanted.len());
        for proxy in wanted {
            match replace(&mut proxies, proxy).await {
                Ok(json) => done.push(json),
                Err(error) => {
                    return Populated {
                        proxies: done,
                        error: Some(error),
                    };
                }
            }
        }
        Populated {
            proxies: done,
            error: None,
        }
    }

    /// Enables every proxy and removes every toxic; the proxies stay.
    pub(crate) async fn reset(&self) -> Result<(), ApiError> {
        let mut proxies = self.proxies.lock().await;
        for entry in proxies.values_mut() {
            entry.start().await?;
            entry.toxics.clear();
        }
        Ok(())
    }

    /// The attempts the `outage` toxic of the proxy called `name` saw.
    pub(crate) async fn journal(&self, name: &str) -> Result<Vec<Attempt>, ApiError> {
        let proxies = self.proxies.lock().await;
        let entry = proxies.get(name).ok_or_else(ApiError::proxy_not_found)?;
        Ok(entry.journal().map(|j| j.attempts()).unwrap_or_default())
    }

    /// Every proxy with what it has carried, for the metrics.
    pub(crate) async fn stats(&self) -> Vec<(ProxyJson, ProxyStats)> {
        let proxies = self.proxies.lock().await;
        proxies.values().map(|e| (e.json(), e.stats())).collect()
    }

    /// Stops and forgets every proxy.
    pub(crate) async fn clear(&self) {
        let mut proxies = self.proxies.lock().await;
        for (_, mut entry) in std::mem::take(&mut *proxies) {
            entry.close().await;
        }
    }
}

/// A new entry for `proxy`, started if it is to be enabled.
async fn started(proxy: NewProxy) -> Result<Entry, ApiError> {
    let Settings {
        listen,
        upstream,
        enabled,
    } = proxy.settings;
    let mut entry = Entry::new(proxy.name, listen, upstream);
    if enabled {
        entry.start().await?;
    }
    Ok(entry)
}

/// Toxiproxy's `AddOrReplace`: keeps an identical proxy, else stops the old
/// one and starts the new one in its place. The old one stays, stopped, if
/// the new one cannot start.
async fn replace(
    proxies: &mut BTreeMap<String, Entry>,
    proxy: NewProxy,
) -> Result<ProxyJson, ApiError> {
    if let Some(existing) = proxies.get_mut(&proxy.name) {
        let settings = &proxy.settings;
        if !existing
            .differs(&settings.listen, &settings.upstream)
            .await?
        {
            return Ok(existing.json());
        }
        existing.close().await;
    }
    let entry = started(proxy).await?;
    let json = entry.json();
    proxies.insert(entry.name.clone(), entry);
    Ok(json)
}
