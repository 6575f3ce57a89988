//! The routes of Toxiproxy's `api.go`, plus `/metrics`: which path and
//! method goes to which handler, and Go's router's 404 and 405 otherwise.

use http::Method;

use super::collection::Collection;
use super::error::ApiError;
use super::handlers::{
    create_proxy, create_toxic, delete_proxy, delete_toxic, journal, list_proxies, list_toxics,
    populate, reset, show_proxy, show_toxic, update_proxy, update_toxic, version,
};
use super::metrics;
use super::reply::Reply;

/// A path the API knows, with the names in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// `/reset`.
    Reset,
    /// `/proxies`.
    Proxies,
    /// `/populate`.
    Populate,
    /// `/proxies/{proxy}`.
    Proxy(String),
    /// `/proxies/{proxy}/toxics`.
    Toxics(String),
    /// `/proxies/{proxy}/toxics/{toxic}`.
    Toxic(String, String),
    /// `/proxies/{proxy}/journal`: the HTTP attempts its `outage` toxic saw.
    Journal(String),
    /// `/version`.
    Version,
    /// `/metrics`, whatever the method.
    Metrics,
}

/// The answer to `method` on `path` with `body`.
pub(crate) async fn answer(
    collection: &Collection,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Reply {
    let Some(route) = parse(path) else {
        return Reply::text(404, "404 page not found").unrouted();
    };
    match on(collection, route, method, body).await {
        Some(result) => result.into(),
        None => Reply::empty(405).unrouted(),
    }
}

fn parse(path: &str) -> Option<Route> {
    let segments: Vec<String> = path.strip_prefix('/')?.split('/').map(decode).collect();
    if segments.iter().any(String::is_empty) {
        return None;
    }
    let route = match segments.as_slice() {
        [one] if one == "reset" => Route::Reset,
        [one] if one == "proxies" => Route::Proxies,
        [one] if one == "populate" => Route::Populate,
        [one] if one == "version" => Route::Version,
        [one] if one == "metrics" => Route::Metrics,
        [proxies, name] if proxies == "proxies" => Route::Proxy(name.clone()),
        [proxies, name, toxics] if proxies == "proxies" && toxics == "toxics" => {
            Route::Toxics(name.clone())
        }
        [proxies, name, journal] if proxies == "proxies" && journal == "journal" => {
            Route::Journal(name.clone())
        }
        [proxies, name, toxics, toxic] if proxies == "proxies" && toxics == "toxics" => {
            Route::Toxic(name.clone(), toxic.clone())
        }
        _ => return None,
    };
    Some(route)
}

/// Runs the route; `None` when it does not take `method`.
async fn on(
    collection: &Collection,
    route: Route,
    method: &Method,
    body: &[u8],
) -> Option<Result<Reply, ApiError>> {
    let (get, post, patch, delete) = (Method::GET, Method::POST, Method::PATCH, Method::DELETE);
    let update = *method == post || *method == patch;
    let result = match route {
        Route::Reset if *method == post => reset(collection).await,
        Route::Proxies if *method == get => list_proxies(collection).await,
        Route::Proxies if *method == post => create_proxy(collection, body).await,
        Route::Populate if *method == post => Ok(populate(collection, body).await),
        Route::Proxy(name) if *method == get => show_proxy(collection, &name).await,
        Route::Proxy(name) if update => update_proxy(collection, &name, body).await,
        Route::Proxy(name) if *method == delete => delete_proxy(collection, &name).await,
        Route::Toxics(name) if *method == get => list_toxics(collection, &name).await,
        Route::Toxics(name) if *method == post => create_toxic(collection, &name, body).await,
        Route::Toxic(name, toxic) if *method == get => show_toxic(collection, &name, &toxic).await,
        Route::Toxic(name, toxic) if update => update_toxic(collection, &name, &toxic, body).await,
        Route::Toxic(name, toxic) if *method == delete => {
            delete_toxic(collection, &name, &toxic).await
        }
        Route::Journal(name) if *method == get => journal(collection, &name).await,
        Route::Version if *method == get => Ok(version()),
        Route::Metrics => Ok(metrics::reply(&collection.stats().await)),
        _ => return None,
    };
    Some(result)
}

/// A path segment with its `%XX` escapes decoded, as Go's router sees it.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escape = bytes.get(at + 1..at + 3).filter(|_| bytes[at] == b'%');
        let byte =
            escape.and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match byte {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The status and body of `method` on `path` with `body`, for tests.
#[cfg(test)]
pub(crate) async fn call(
    collection: &Collection,
    method: Method,
    path: &str,
    body: &str,
) -> (u16, String) {
    let reply = answer(collection, &method, path, body.as_bytes()).await;
    (reply.status, String::from_utf8(reply.body).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_proxy_and_toxic_with_escapes_decoded() {
        assert_eq!(parse("/proxies/a%20b"), Some(Route::Proxy("a b".into())));
        assert_eq!(
            parse("/proxies/db/toxics/lag"),
            Some(Route::Toxic("db".into(), "lag".into()))
        );
        assert_eq!(parse("/proxies/"), None);
        assert_eq!(parse("/proxies/db/other"), None);
        assert_eq!(decode("100%"), "100%");
    }

    #[tokio::test]
    async fn unknown_paths_are_404_and_other_methods_405_as_in_go() {
        let collection = Collection::default();
        let missing = call(&collection, Method::GET, "/nope", "").await;
        assert_eq!(missing, (404, "404 page not found\n".to_owned()));
        assert_eq!(
            call(&collection, Method::PUT, "/proxies", "").await,
            (405, String::new())
        );
        assert_eq!(call(&collection, Method::GET, "/reset", "").await.0, 405);
        let version = call(&collection, Method::GET, "/version", "").await;
        assert_eq!(version, (200, "{\"version\": \"2.12.0\"}\n".to_owned()));
    }
}
