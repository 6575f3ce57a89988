//! Proxies as requests give them: created, populated, or updated.

use serde_json::Value;

use super::entry::Settings;
use super::error::ApiError;
use super::fields::{Fields, first_value, kind};

/// A proxy to create: its name and settings, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewProxy {
    /// Its name; checked to be non-empty.
    pub(crate) name: String,
    /// Where it listens, where it forwards, and whether it starts enabled
    /// (the default).
    pub(crate) settings: Settings,
}

/// The body of `POST /proxies`.
pub(crate) fn create(body: &[u8]) -> Result<NewProxy, ApiError> {
    let proxy = new_proxy(&first_value(body)?)?;
    required(&proxy, "")?;
    Ok(proxy)
}

/// The body of `POST /populate`, or a config file: an array of proxies,
/// all checked before any is created.
pub(crate) fn populate(body: &[u8]) -> Result<Vec<NewProxy>, ApiError> {
    let value = first_value(body)?;
    let Value::Array(items) = value else {
        return Err(ApiError::bad_body(format!(
            "expected an array of proxies, not {}",
            kind(&value)
        )));
    };
    let proxies = items.iter().map(new_proxy).collect::<Result<Vec<_>, _>>()?;
    for (at, proxy) in proxies.iter().enumerate() {
        required(proxy, &format!(" at proxy {}", at + 1))?;
    }
    Ok(proxies)
}

/// The body of `PATCH /proxies/{proxy}`, merged onto the proxy's `current`
/// settings.
pub(crate) fn update(body: &[u8], current: Settings) -> Result<Settings, ApiError> {
    let value = first_value(body)?;
    let fields = Fields::of(&value, "a proxy")?;
    Ok(Settings {
        listen: fields.string("listen")?.unwrap_or(current.listen),
        upstream: fields.string("upstream")?.unwrap_or(current.upstream),
        enabled: fields.boolean("enabled")?.unwrap_or(current.enabled),
    })
}

/// A proxy's fields; unknown ones (such as `toxics`) are ignored.
fn new_proxy(value: &Value) -> Result<NewProxy, ApiError> {
    let fields = Fields::of(value, "a proxy")?;
    Ok(NewProxy {
        name: fields.string("name")?.unwrap_or_default(),
        settings: Settings {
            listen: fields.string("listen")?.unwrap_or_default(),
            upstream: fields.string("upstream")?.unwrap_or_default(),
            enabled: fields.boolean("enabled")?.unwrap_or(true),
        },
    })
}

/// Refuses an empty name or upstream; `at` says which proxy of a list.
fn required(proxy: &NewProxy, at: &str) -> Result<(), ApiError> {
    if proxy.name.is_empty() {
        return Err(ApiError::missing(format!("name{at}")));
    }
    if proxy.settings.upstream.is_empty() {
        return Err(ApiError::missing(format!("upstream{at}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_go_client_proxy_is_read_with_its_null_toxics_ignored() {
        let body = br#"{"name":"db","listen":"localhost:0","upstream":"localhost:5432","enabled":true,"toxics":null}"#;
        let proxy = create(body).unwrap();
        assert_eq!(proxy.name, "db");
        assert_eq!(proxy.settings.listen, "localhost:0");
        assert!(proxy.settings.enabled);
    }

    #[test]
    fn enabled_defaults_to_true_and_name_and_upstream_are_required() {
        assert!(
            create(br#"{"name":"db","upstream":"x:1"}"#)
                .unwrap()
                .settings
                .enabled
        );
        let missing = |body: &[u8]| create(body).unwrap_err().message;
        assert_eq!(
            missing(br#"{"upstream":"x:1"}"#),
            "missing required field: name"
        );
        assert_eq!(missing(b"null"), "missing required field: name");
        assert_eq!(
            missing(br#"{"name":"db"}"#),
            "missing required field: upstream"
        );
    }

    #[test]
    fn populate_checks_every_proxy_and_names_the_one_at_fault() {
        let body = br#"[{"name":"a","upstream":"x:1"},{"name":"b"}]"#;
        let error = populate(body).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.message, "missing required field: upstream at proxy 2");
        assert_eq!(
            populate(br#"{"proxies":[]}"#).unwrap_err().message,
            "bad request body: expected an array of proxies, not an object"
        );
        assert_eq!(populate(b"[]").unwrap(), []);
    }

    #[test]
    fn an_update_merges_onto_listen_upstream_and_enabled() {
        let current = Settings {
            listen: "127.0.0.1:1".into(),
            upstream: "x:1".into(),
            enabled: true,
        };
        let merged = update(br#"{"enabled":false,"name":"ignored"}"#, current.clone()).unwrap();
        assert_eq!(
            merged,
            Settings {
                enabled: false,
                ..current.clone()
            }
        );
        let moved = update(br#"{"upstream":"y:2"}"#, current.clone()).unwrap();
        assert_eq!(moved.upstream, "y:2");
        assert_eq!(moved.listen, current.listen);
    }
}
