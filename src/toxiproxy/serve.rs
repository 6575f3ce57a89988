//! The HTTP side: the accept loop, hyper on each connection, and the
//! handling every request shares (request ids, the browser check, reading
//! the body), as Toxiproxy's middlewares do it.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::server::accept_each;
use tokio_util::task::TaskTracker;

use super::collection::Collection;
use super::error::ApiError;
use super::reply::Reply;
use super::routes;

/// The largest request body read; Toxiproxy's bodies are a few proxies.
const MAX_BODY: usize = 16 << 20;

/// What every connection's requests share.
pub(crate) struct Shared {
    /// The proxies.
    pub(crate) collection: Arc<Collection>,
    /// Where request ids come from.
    ids: RequestIds,
}

impl Shared {
    /// The shared state of an API serving `collection`.
    pub(crate) fn new(collection: Arc<Collection>) -> Shared {
        Shared {
            collection,
            ids: RequestIds::new(),
        }
    }
}

/// Accepts connections until `stop`, each served on a task of `tasks`.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    accept_each(&listener, &stop, |stream, _peer| {
        tasks.spawn(connection(stream, shared.clone(), stop.clone()));
    })
    .await;
}

/// Serves one connection; at `stop`, lets the request in progress finish.
async fn connection(stream: TcpStream, shared: Arc<Shared>, stop: CancellationToken) {
    let service = service_fn(move |request| handle(request, shared.clone()));
    let mut served = pin!(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
    tokio::select! {
        _ = served.as_mut() => return,
        () = stop.cancelled() => {}
    }
    served.as_mut().graceful_shutdown();
    let _ = served.await;
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = reply(request, &shared.collection).await;
    let mut response = Response::builder().status(reply.status);
    if reply.routed {
        response = response.header("X-Toxiproxy-Request-Id", shared.ids.next());
    }
    if let Some(content_type) = reply.content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    if reply.nosniff {
        response = response.header("X-Content-Type-Options", "nosniff");
    }
    let body = Full::new(Bytes::from(reply.body));
    // Every status and header above is valid: building cannot fail.
    Ok(response.body(body).unwrap_or_default())
}

async fn reply(request: Request<Incoming>, collection: &Collection) -> Reply {
    // Toxiproxy turns browsers away, so a web page cannot drive it.
    let agent = request.headers().get(http::header::USER_AGENT);
    if agent.is_some_and(|agent| agent.as_bytes().starts_with(b"Mozilla/")) {
        return Reply::text(403, "User agent not allowed");
    }
    let (head, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => return Reply::error(&ApiError::bad_body(error)),
    };
    routes::answer(collection, &head.method, head.uri.path(), &body).await
}

/// Unique request ids, 20 characters like Toxiproxy's: the server's start
/// time, then a count.
struct RequestIds {
    start: u64,
    count: AtomicU64,
}

impl RequestIds {
    fn new() -> RequestIds {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        RequestIds {
            start: since.as_micros() as u64 & 0xffff_ffff_ffff,
            count: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        let count = self.count.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff;
        format!("{:012x}{count:08x}", self.start)
    }
}
