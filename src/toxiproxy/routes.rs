//! The routes of Toxiproxy's `api.go`, plus `/metrics`: which path and
//! method does what, and with which status.

use http::Method;
use serde::Serialize;

use crate::toxic::{ToxicError, Toxics};

use super::collection::{Collection, Populated};
use super::error::ApiError;
use super::json::{ProxyJson, ToxicJson, in_chain_order};
use super::reply::Reply;
use super::{TOXIPROXY_VERSION, input, metrics, toxic_input};

/// A path the API knows, with the names in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Reset,
    Proxies,
    Populate,
    Proxy(String),
    Toxics(String),
    Toxic(String, String),
    Version,
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
        return Reply::text(404, "404 page not found");
    };
    match on(collection, route, method, body).await {
        Some(result) => result.into(),
        None => Reply::empty(405),
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
        Route::Reset if *method == post => collection.reset().await.map(|()| Reply::empty(204)),
        Route::Proxies if *method == get => Ok(Reply::json(200, &collection.list().await)),
        Route::Proxies if *method == post => create_proxy(collection, body).await,
        Route::Populate if *method == post => Ok(populate(collection, body).await),
        Route::Proxy(name) if *method == get => collection.show(&name).await.map(ok),
        Route::Proxy(name) if update => update_proxy(collection, &name, body).await,
        Route::Proxy(name) if *method == delete => {
            collection.delete(&name).await.map(|()| Reply::empty(204))
        }
        Route::Toxics(name) if *method == get => collection.toxics(&name).await.map(list),
        Route::Toxics(name) if *method == post => create_toxic(collection, &name, body).await,
        Route::Toxic(name, toxic) if *method == get => show_toxic(collection, &name, &toxic).await,
        Route::Toxic(name, toxic) if update => update_toxic(collection, &name, &toxic, body).await,
        Route::Toxic(name, toxic) if *method == delete => {
            delete_toxic(collection, &name, &toxic).await
        }
        Route::Version if *method == get => Ok(version()),
        Route::Metrics => Ok(metrics::reply(&collection.list().await)),
        _ => return None,
    };
    Some(result)
}

fn ok(proxy: ProxyJson) -> Reply {
    Reply::json(200, &proxy)
}

async fn create_proxy(collection: &Collection, body: &[u8]) -> Result<Reply, ApiError> {
    let proxy = collection.create(input::create(body)?).await?;
    Ok(Reply::json(201, &proxy))
}

async fn update_proxy(collection: &Collection, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let proxy = collection.update(name, |current| input::update(body, current));
    proxy.await.map(ok)
}

/// `POST /populate`: 201 and the proxies, or the error's status with the
/// error and the proxies made before it.
async fn populate(collection: &Collection, body: &[u8]) -> Reply {
    #[derive(Serialize)]
    struct Answer {
        #[serde(flatten)]
        error: Option<ApiError>,
        proxies: Vec<ProxyJson>,
    }
    let populated = match input::populate(body) {
        Ok(wanted) => collection.populate(wanted).await,
        Err(error) => Populated {
            proxies: Vec::new(),
            error: Some(error),
        },
    };
    let status = populated.error.as_ref().map_or(201, |error| error.status);
    let answer = Answer {
        error: populated.error,
        proxies: populated.proxies,
    };
    Reply::json(status, &answer)
}

fn list(toxics: Toxics) -> Reply {
    let listed: Vec<ToxicJson> = in_chain_order(&toxics.list())
        .iter()
        .map(ToxicJson::from)
        .collect();
    Reply::json(200, &listed)
}

async fn create_toxic(collection: &Collection, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let toxics = collection.toxics(name).await?;
    let toxic = toxic_input::create(body, |name| toxics.get(name).is_some())?;
    let added = toxics.add(toxic)?;
    Ok(Reply::json(200, &ToxicJson::from(&added)))
}

async fn show_toxic(collection: &Collection, name: &str, toxic: &str) -> Result<Reply, ApiError> {
    let toxics = collection.toxics(name).await?;
    let found = toxics.get(toxic).ok_or(ToxicError::NotFound)?;
    Ok(Reply::json(200, &ToxicJson::from(&found)))
}

async fn update_toxic(
    collection: &Collection,
    name: &str,
    toxic: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let toxics = collection.toxics(name).await?;
    let current = toxics.get(toxic).ok_or(ToxicError::NotFound)?;
    let (kind, toxicity) = toxic_input::update(body, &current)?;
    let updated = toxics.update(toxic, |toxic| {
        toxic.kind = kind;
        toxic.toxicity = toxicity;
    })?;
    Ok(Reply::json(200, &ToxicJson::from(&updated)))
}

async fn delete_toxic(collection: &Collection, name: &str, toxic: &str) -> Result<Reply, ApiError> {
    collection.toxics(name).await?.remove(toxic)?;
    Ok(Reply::empty(204))
}

/// `GET /version`, written by hand in Toxiproxy, with its space and newline.
fn version() -> Reply {
    let body = format!("{{\"version\": \"{TOXIPROXY_VERSION}\"}}\n");
    Reply::raw(200, "application/json;charset=utf-8", body)
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn call(
        collection: &Collection,
        method: Method,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let reply = answer(collection, &method, path, body.as_bytes()).await;
        (reply.status, String::from_utf8(reply.body).unwrap())
    }

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

    #[tokio::test]
    async fn a_proxy_and_its_toxics_go_through_their_lifecycle() {
        let collection = Collection::default();
        let body =
            r#"{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:9","enabled":false}"#;
        let (status, created) = call(&collection, Method::POST, "/proxies", body).await;
        assert_eq!(status, 201, "{created}");
        assert!(created.contains(
            r#""listen":"127.0.0.1:0","upstream":"127.0.0.1:9","enabled":false,"toxics":[]"#
        ));
        assert_eq!(
            call(&collection, Method::POST, "/proxies", body).await.0,
            409
        );
        let toxic = r#"{"type":"latency","attributes":{"latency":5}}"#;
        let added = call(&collection, Method::POST, "/proxies/db/toxics", toxic).await;
        assert_eq!(added.0, 200, "{}", added.1);
        let patch = r#"{"attributes":{"jitter":2}}"#;
        let updated = call(
            &collection,
            Method::PATCH,
            "/proxies/db/toxics/latency_downstream",
            patch,
        )
        .await;
        assert_eq!(
            updated.1,
            r#"{"attributes":{"jitter":2,"latency":5},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1.0}"#
        );
        let path = "/proxies/db/toxics/latency_downstream";
        assert_eq!(call(&collection, Method::DELETE, path, "").await.0, 204);
        let gone = call(&collection, Method::DELETE, path, "").await;
        assert_eq!(
            gone,
            (
                404,
                "{\"error\":\"toxic not found\",\"status\":404}\n".to_owned()
            )
        );
        assert_eq!(
            call(&collection, Method::DELETE, "/proxies/db", "").await.0,
            204
        );
        assert_eq!(
            call(&collection, Method::GET, "/proxies/db/toxics", "")
                .await
                .0,
            404
        );
    }
}
