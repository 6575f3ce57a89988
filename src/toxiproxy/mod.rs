//! Toxiproxy's HTTP API (version 2.12.0), served over
//! [`ToxicProxy`](crate::proxy::ToxicProxy)s, so that Toxiproxy's own
//! clients drive `outage` unchanged.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use outage::toxiproxy::ToxiproxyApi;
//!
//! let api = ToxiproxyApi::start("127.0.0.1:0").await?;
//! api.populate(br#"[{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:5432"}]"#)
//!     .await?;
//! // A client now adds toxics with `POST {url}/proxies/db/toxics`.
//! assert!(api.url().starts_with("http://127.0.0.1:"));
//! api.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The routes are Toxiproxy's, with its status codes, JSON and error
//! messages: `/proxies`, `/proxies/{proxy}`, `/proxies/{proxy}/toxics`,
//! `/proxies/{proxy}/toxics/{toxic}`, `/populate`, `/reset` and `/version`,
//! and `/metrics` in Prometheus' format.
//!
//! The code, from the wire inwards:
//!
//! - `serve`: the accept loop, hyper, request ids, the browser check;
//! - `routes`: which path and method goes where; `handlers`: what each
//!   does, with which status; `reply` writes the answer;
//! - `input`, `toxic_input`, `fields`: request bodies, read as leniently as
//!   Toxiproxy reads them;
//! - `collection`: the proxies by name; `entry`: one proxy, started and
//!   stopped, and its toxics; `listen`: listen addresses, resolved as in Go;
//! - `json`: the answers' JSON; `metrics`: the Prometheus text;
//! - `error`: [`ApiError`], Toxiproxy's statuses and messages.

mod collection;
mod entry;
mod error;
mod fields;
mod handlers;
mod input;
mod json;
mod listen;
mod metrics;
mod reply;
mod routes;
mod serve;
mod toxic_input;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use error::ApiError;

use collection::Collection;
use serve::Shared;

/// The Toxiproxy version whose API this is, as `GET /version` says.
pub const TOXIPROXY_VERSION: &str = "2.12.0";

/// Toxiproxy's HTTP API on a local address, with the proxies it manages.
/// Dropping it stops the API and every proxy.
#[must_use = "the API and its proxies stop when this value is dropped"]
pub struct ToxiproxyApi {
    addr: SocketAddr,
    collection: Arc<Collection>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for ToxiproxyApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToxiproxyApi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ToxiproxyApi {
    /// Listens on `addr` (such as `127.0.0.1:0`, `localhost:8474`) and
    /// serves the API, with no proxies yet.
    pub async fn start(addr: impl ToSocketAddrs) -> io::Result<ToxiproxyApi> {
        let listener = TcpListener::bind(addr).await?;
        let api = ToxiproxyApi {
            addr: listener.local_addr()?,
            collection: Arc::default(),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        let shared = Arc::new(Shared::new(api.collection.clone()));
        let accepting = serve::accept_loop(listener, shared, api.stop.clone(), api.tasks.clone());
        api.tasks.spawn(accepting);
        Ok(api)
    }

    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, such as `http://127.0.0.1:8474`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates the proxies of a Toxiproxy config file or `POST /populate`
    /// body: a JSON array of `{"name","listen","upstream","enabled"}`.
    /// Every entry is checked before any proxy is made; a proxy of the same
    /// name, listen address and upstream is kept, one that differs is
    /// replaced.
    pub async fn populate(&self, json: &[u8]) -> Result<(), ApiError> {
        let wanted = input::populate(json)?;
        match self.collection.populate(wanted).await.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Stops the API, letting requests in progress finish, then every proxy.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        self.collection.clear().await;
    }
}

impl Drop for ToxiproxyApi {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tasks.close();
    }
}
