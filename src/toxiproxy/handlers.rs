//! What each route does: the handlers of Toxiproxy's `api.go`, with its
//! status codes.

use serde::Serialize;

use crate::toxic::{ToxicError, Toxics};

use super::TOXIPROXY_VERSION;
use super::collection::{Collection, Populated};
use super::error::ApiError;
use super::json::{ProxyJson, ToxicJson, in_chain_order};
use super::reply::Reply;
use super::{input, toxic_input};

/// `POST /reset`: 204.
pub(crate) async fn reset(collection: &Collection) -> Result<Reply, ApiError> {
    collection.reset().await?;
    Ok(Reply::empty(204))
}

/// `GET /proxies`: 200 and every proxy, by name.
pub(crate) async fn list_proxies(collection: &Collection) -> Result<Reply, ApiError> {
    Ok(Reply::json(200, &collection.list().await))
}

/// `GET /proxies/{proxy}`: 200.
pub(crate) async fn show_proxy(collection: &Collection, name: &str) -> Result<Reply, ApiError> {
    collection.show(name).await.map(ok)
}

/// `DELETE /proxies/{proxy}`: 204.
pub(crate) async fn delete_proxy(collection: &Collection, name: &str) -> Result<Reply, ApiError> {
    collection.delete(name).await?;
    Ok(Reply::empty(204))
}

/// `GET /proxies/{proxy}/toxics`: 200.
pub(crate) async fn list_toxics(collection: &Collection, name: &str) -> Result<Reply, ApiError> {
    collection.toxics(name).await.map(list)
}

/// `GET /proxies/{proxy}/journal`: the attempts of its `outage` toxic's
/// fault, oldest first; `[]` without one.
pub(crate) async fn journal(collection: &Collection, name: &str) -> Result<Reply, ApiError> {
    let attempts = collection.journal(name).await?;
    Ok(Reply::json(200, &attempts))
}

/// A proxy, 200.
fn ok(proxy: ProxyJson) -> Reply {
    Reply::json(200, &proxy)
}

/// `POST /proxies`: 201.
pub(crate) async fn create_proxy(collection: &Collection, body: &[u8]) -> Result<Reply, ApiError> {
    let proxy = collection.create(input::create(body)?).await?;
    Ok(Reply::json(201, &proxy))
}

/// `PATCH /proxies/{proxy}`: 200.
pub(crate) async fn update_proxy(
    collection: &Collection,
    name: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let proxy = collection.update(name, |current| input::update(body, current));
    proxy.await.map(ok)
}

/// `POST /populate`: 201 and the proxies, or the error's status with the
/// error and the proxies made before it.
pub(crate) async fn populate(collection: &Collection, body: &[u8]) -> Reply {
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

/// The toxics, 200.
fn list(toxics: Toxics) -> Reply {
    let listed: Vec<ToxicJson> = in_chain_order(&toxics.list())
        .iter()
        .map(ToxicJson::from)
        .collect();
    Reply::json(200, &listed)
}

/// `POST /proxies/{proxy}/toxics`: 200, not 201, as in Toxiproxy.
pub(crate) async fn create_toxic(
    collection: &Collection,
    name: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let toxics = collection.toxics(name).await?;
    let toxic = toxic_input::create(body, |name| toxics.get(name).is_some())?;
    let added = toxics.add(toxic)?;
    Ok(Reply::json(200, &ToxicJson::from(&added)))
}

/// `GET /proxies/{proxy}/toxics/{toxic}`: 200.
pub(crate) async fn show_toxic(
    collection: &Collection,
    name: &str,
    toxic: &str,
) -> Result<Reply, ApiError> {
    let toxics = collection.toxics(name).await?;
    let found = toxics.get(toxic).ok_or(ToxicError::NotFound)?;
    Ok(Reply::json(200, &ToxicJson::from(&found)))
}

/// `PATCH /proxies/{proxy}/toxics/{toxic}`: 200.
pub(crate) async fn update_toxic(
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

/// `DELETE /proxies/{proxy}/toxics/{toxic}`: 204.
pub(crate) async fn delete_toxic(
    collection: &Collection,
    name: &str,
    toxic: &str,
) -> Result<Reply, ApiError> {
    collection.toxics(name).await?.remove(toxic)?;
    Ok(Reply::empty(204))
}

/// `GET /version`, written by hand in Toxiproxy, with its space and newline.
pub(crate) fn version() -> Reply {
    let body = format!("{{\"version\": \"{TOXIPROXY_VERSION}\"}}\n");
    Reply::raw(200, "application/json;charset=utf-8", body)
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::toxiproxy::routes::call;

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
