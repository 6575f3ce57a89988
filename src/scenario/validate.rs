//! Each section of a scenario file turned into real values (faults,
//! durations, clients, expectations), checked one key at a time so that
//! every error is located.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use crate::ErrorClass;
use crate::dns::{DnsFault, invalid_name};
use crate::fault::{Fault, Route};
use crate::scenario::checks;
use crate::scenario::error::{Errors, Place};
use crate::scenario::raw::{Value, duration_of, table, typed, unknown_keys};
use crate::scenario::{
    Bounds, Client, Count, DEFAULT_DEADLINE, Dns, Expect, Gaps, ReqwestSettings,
};

const CLIENT_KEYS: &[&str] = &["run", "build", "reqwest", "timeout", "label"];
const EXPECT_KEYS: &[&str] = &[
    "error", "class", "status", "attempts", "gaps", "duration", "exit", "output", "hangs",
];

pub(super) fn fault_of(errors: &mut Errors, value: &Value) -> Option<Fault> {
    let kind = match value.get_ref() {
        DeValue::String(name) => Some((name.as_ref(), value.span())),
        DeValue::Table(t) => t
            .get("kind")
            .and_then(|k| k.get_ref().as_str().map(|s| (s, k.span()))),
        _ => None,
    };
    if let Some((name, span)) = kind
        && let Err(unknown) = Fault::named(name)
    {
        errors.at(span, unknown.to_string());
        return None;
    }
    if !routes_located(errors, value) {
        return None;
    }
    let fault: Fault = typed(errors, value)?;
    if let Err(invalid) = fault.validate() {
        errors.at(value.span(), invalid.to_string());
        return None;
    }
    Some(fault)
}

/// A `true` or `false` under `key`, which turns on what `meaning` says.
pub(super) fn flag_of(
    errors: &mut Errors,
    value: &Value,
    key: &str,
    meaning: &str,
) -> Option<bool> {
    let flag = value.get_ref().as_bool();
    if flag.is_none() {
        errors.at(
            value.span(),
            format!(
                "`{key}` must be true ({meaning}) or false, found a {}",
                value.get_ref().type_str()
            ),
        );
    }
    flag
}

/// Checks each route of a `routes` fault on its own, so that an error points
/// at its route rather than at the whole fault. True when every route is valid.
pub(super) fn routes_located(errors: &mut Errors, value: &Value) -> bool {
    let Some(table) = value.get_ref().as_table() else {
        return true;
    };
    let is_routes = table
        .get("kind")
        .and_then(|k| k.get_ref().as_str())
        .is_some_and(|kind| kind == "routes");
    let Some(routes) = table.get("routes").and_then(|r| r.get_ref().as_array()) else {
        return true;
    };
    let mut valid = true;
    for (i, entry) in routes.iter().enumerate().filter(|_| is_routes) {
        let Some(route) = typed::<Route>(errors, entry) else {
            valid = false;
            continue;
        };
        if let Err(invalid) = route.validate() {
            let reason = invalid.reason;
            errors.at(entry.span(), format!("invalid route {i}: {reason}"));
            valid = false;
        }
    }
    valid
}

/// `host` and `[dns]`: `Ok(None)` when the scenario has neither.
pub(super) fn dns_of(errors: &mut Errors, top: &DeTable) -> Result<Option<Dns>, ()> {
    let table = top.get("dns");
    let Some(host) = top.get("host") else {
        if let Some(table) = table {
            errors.at(
                table.span(),
                "[dns] needs `host`, the name the client's URL uses; add host = \"api.outage.test\"",
            );
            return Err(());
        }
        return Ok(None);
    };
    let host = typed::<String>(errors, host).and_then(|name| match invalid_name(&name) {
        Some(reason) => {
            errors.at(host.span(), format!("host {reason}"));
            None
        }
        None => Some(name),
    });
    let names = match table {
        Some(value) => names_of(errors, value),
        None => Some(BTreeMap::new()),
    };
    match (host, names) {
        (Some(host), Some(names)) => Ok(Some(Dns { host, names })),
        _ => Err(()),
    }
}

pub(super) fn names_of(errors: &mut Errors, value: &Value) -> Option<BTreeMap<String, DnsFault>> {
    let section = table(errors, value, "dns")?;
    let mut names = BTreeMap::new();
    let mut ok = true;
    for (key, value) in section {
        let name = key.get_ref().as_ref();
        if let Some(reason) = invalid_name(name) {
            errors.at(key.span(), format!("in [dns]: {reason}"));
            ok = false;
        }
        match typed::<DnsFault>(errors, value) {
            Some(fault) => {
                names.insert(name.to_owned(), fault);
            }
            None => ok = false,
        }
    }
    ok.then_some(names)
}

/// What `[client]` says.
pub(super) struct ClientSection {
    pub(super) client: Client,
    pub(super) deadline: Duration,
    /// Where the client is written, for errors found when it is about to
    /// run, such as a program not on `PATH`.
    pub(super) at: Place,
    /// The client's name in reports, when the file gives one.
    pub(super) label: Option<String>,
    /// The command that builds the client's program, when the file gives one.
    pub(super) build: Option<Vec<String>>,
}

pub(super) fn client_of(errors: &mut Errors, value: &Value) -> Option<ClientSection> {
    let client = table(errors, value, "client")?;
    unknown_keys(errors, client, "client", CLIENT_KEYS);
    let label = match client.get("label") {
        Some(v) => Some(typed::<String>(errors, v).filter(|l| label_ok(errors, v, l))?),
        None => None,
    };
    let deadline = match client.get("timeout") {
        Some(v) => duration_of(errors, v).filter(|d| checks::deadline(errors, v, *d)),
        None => Some(DEFAULT_DEADLINE),
    };
    let written = client.get("run").or(client.get("reqwest")).unwrap_or(value);
    let place = errors.place(written.span());
    let chosen = match (client.get("run"), client.get("reqwest")) {
        (Some(run), None) => run_of(errors, run).map(Client::Command),
        (None, Some(settings)) => reqwest_of(errors, settings).map(Client::Reqwest),
        (Some(_), Some(settings)) => {
            errors.at(
                settings.span(),
                "give either `run` or `reqwest` in [client], not both",
            );
            None
        }
        (None, None) => {
            errors.at(
                value.span(),
                "[client] needs `run = [\"program\", \"{url}\"]` or `reqwest = {}`",
            );
            None
        }
    };
    let build = match client.get("build") {
        Some(v) => Some(build_of(errors, v, chosen.as_ref()?)?),
        None => None,
    };
    Some(ClientSection {
        client: chosen?,
        deadline: deadline?,
        at: place,
        label,
        build,
    })
}

/// A label is a short name for table columns: one line, not empty.
fn label_ok(errors: &mut Errors, value: &Value, label: &str) -> bool {
    let ok =
        !label.trim().is_empty() && !label.contains(['\n', '\r']) && label.chars().count() <= 40;
    if !ok {
        errors.at(
            value.span(),
            "`label` names the client in reports: give one line of 1 to 40 characters, such as \"httpx\"",
        );
    }
    ok
}

pub(super) fn run_of(errors: &mut Errors, value: &Value) -> Option<Vec<String>> {
    let run: Vec<String> = typed(errors, value)?;
    if run.is_empty() {
        errors.at(
            value.span(),
            "`run` is empty; give the program and its arguments",
        );
        return None;
    }
    Some(run)
}

/// `build`: a command, for a client that is a program.
fn build_of(errors: &mut Errors, value: &Value, client: &Client) -> Option<Vec<String>> {
    if let Client::Reqwest(_) = client {
        errors.at(
            value.span(),
            "`build` builds the program that `run` starts; reqwest runs in process and needs none",
        );
        return None;
    }
    let build: Vec<String> = typed(errors, value)?;
    if build.is_empty() {
        errors.at(
            value.span(),
            "`build` is empty; give the command that builds the client, \
             such as [\"go\", \"build\", \"-o\", \"target/probes/get\", \"get.go\"]",
        );
        return None;
    }
    Some(build)
}

pub(super) fn reqwest_of(errors: &mut Errors, value: &Value) -> Option<ReqwestSettings> {
    let settings: ReqwestSettings = typed(errors, value)?;
    if !checks::reqwest(errors, value) {
        return None;
    }
    if let Some(path) = &settings.path
        && !path.starts_with('/')
    {
        errors.at(
            value.span(),
            format!("reqwest path {path:?} must start with \"/\", such as \"/api/users\""),
        );
        return None;
    }
    if let Some(retry) = &settings.retry
        && !(retry.factor.is_finite() && retry.factor >= 1.0)
    {
        errors.at(
            value.span(),
            format!(
                "retry factor {} must be a number of at least 1",
                retry.factor
            ),
        );
        return None;
    }
    if let Some((status, on)) = status_never_an_error(&settings, value) {
        errors.at(
            on.span(),
            format!(
                "retry.on names {status}, but without error-for-status = true a status is a \
                 response, never an error to retry (as with reqwest's own error_for_status()); \
                 add error-for-status = true"
            ),
        );
        return None;
    }
    Some(settings)
}

/// A status class that `retry.on` names explicitly although the client never
/// turns a status into an error, and where `on` is written.
fn status_never_an_error<'a, 'i>(
    settings: &ReqwestSettings,
    value: &'a Value<'i>,
) -> Option<(ErrorClass, &'a Value<'i>)> {
    if settings.error_for_status {
        return None;
    }
    let on = value
        .get_ref()
        .as_table()?
        .get("retry")?
        .get_ref()
        .as_table()?
        .get("on")?;
    let retry = settings.retry.as_ref()?;
    let status = retry
        .on
        .iter()
        .find(|class| matches!(class, ErrorClass::HttpStatus(_)))?;
    Some((*status, on))
}

pub(super) fn expect_of(errors: &mut Errors, value: &Value) -> Option<Expect> {
    let section = table(errors, value, "expect")?;
    unknown_keys(errors, section, "expect", EXPECT_KEYS);
    let mut expect = Expect::default();
    let mut ok = true;
    for (key, value) in section {
        let parsed = match key.get_ref().as_ref() {
            "error" => typed(errors, value).map(|v| expect.error = Some(v)),
            "class" => classes_of(errors, value).map(|v| expect.class = v),
            "status" => typed(errors, value).map(|v| expect.status = Some(v)),
            "attempts" => count_of(errors, value).map(|v| expect.retries.attempts = Some(v)),
            "gaps" => typed::<Gaps>(errors, value)
                .filter(|gaps| checks::gaps(errors, value, gaps))
                .map(|v| expect.retries.gaps = Some(v)),
            "duration" => typed::<Bounds>(errors, value)
                .filter(|_| checks::bounds(errors, value))
                .map(|v| expect.duration = Some(v)),
            "exit" => typed(errors, value).map(|v| expect.exit = Some(v)),
            "output" => output_of(errors, value).map(|v| expect.output = v),
            "hangs" => typed(errors, value).map(|v| expect.hangs = v),
            _ => Some(()),
        };
        ok &= parsed.is_some();
    }
    if section.is_empty() {
        errors.at(
            value.span(),
            "[expect] is empty; a scenario that expects nothing can never fail",
        );
    }
    ok.then_some(expect)
}

pub(super) fn count_of(errors: &mut Errors, value: &Value) -> Option<Count> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Range {
        min: Option<u64>,
        max: Option<u64>,
    }
    if value.get_ref().is_table() {
        return typed::<Range>(errors, value)
            .filter(|r| checks::count_range(errors, value, r.min, r.max))
            .map(|r| Count::Between {
                min: r.min,
                max: r.max,
            });
    }
    typed(errors, value).map(Count::Exactly)
}

pub(super) fn output_of(errors: &mut Errors, value: &Value) -> Option<Vec<String>> {
    if value.get_ref().is_str() {
        return typed(errors, value).map(|s| vec![s]);
    }
    typed(errors, value)
}

/// The classes a client may land in, written alone or as a list:
/// `"reset"` or `["reset", "empty-reply"]`; each one's own error (a
/// misspelt class, with the nearest name) is the one reported.
fn classes_of(errors: &mut Errors, value: &Value) -> Option<Vec<ErrorClass>> {
    if !value.get_ref().is_array() {
        return typed::<ErrorClass>(errors, value).map(|class| vec![class]);
    }
    let classes = typed::<Vec<ErrorClass>>(errors, value)?;
    if classes.is_empty() {
        errors.at(
            value.span(),
            "`class` is an empty list; give a class, or a list of the classes a racing client may land in",
        );
        return None;
    }
    Some(classes)
}
