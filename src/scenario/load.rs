//! Reading scenario files: every key checked on its own, every error located.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::dns::{DnsFault, invalid_name};
use crate::duration;
use crate::fault::{Fault, Route};
use crate::scenario::error::{Errors, LoadErrors};
use crate::scenario::{
    Bounds, Client, Count, DEFAULT_DEADLINE, Dns, Expect, Gaps, ReqwestSettings, Scenario,
};
use crate::scenario::{checks, deep, files};
use crate::words::{nearest, plain};

type Value<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "description",
    "fault",
    "tls",
    "host",
    "dns",
    "client",
    "expect",
];
const CLIENT_KEYS: &[&str] = &["run", "reqwest", "timeout"];
const EXPECT_KEYS: &[&str] = &[
    "error", "class", "status", "attempts", "gaps", "duration", "exit", "output", "hangs",
];

/// Reads and checks the scenario file at `path`: a regular file of at most
/// [`MAX_FILE_BYTES`](crate::scenario::MAX_FILE_BYTES), in UTF-8.
pub fn load(path: &Path) -> Result<Scenario, LoadErrors> {
    let bytes = files::read(path).map_err(|message| {
        let mut errors = Errors::new(path, "");
        errors.file(message);
        errors.finish()
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => parse(path, &text),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let byte = error.as_bytes()[at];
            // Only the valid part is text that lines and columns can count in.
            let text = String::from_utf8_lossy(&error.as_bytes()[..at]);
            let mut errors = Errors::new(path, &text);
            errors.at(
                at..at,
                format!(
                    "not UTF-8 text: byte 0x{byte:02X} cannot start a character here; \
                     a scenario file is TOML, which is UTF-8: check that this is the right file"
                ),
            );
            Err(errors.finish())
        }
    }
}

/// Checks scenario `text`, read from `path`, and reports every error in it.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, LoadErrors> {
    let mut errors = Errors::new(path, text);
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let message = format!("not valid TOML: {}", error.message().trim_end());
            match error.span() {
                Some(span) => errors.at(span, message),
                None => match deep::too_deep(text) {
                    Some((span, message)) => errors.at(span, message),
                    None => errors.file(message),
                },
            }
            return Err(errors.finish());
        }
    };
    let top = document.get_ref();
    unknown_keys(&mut errors, top, "", TOP_KEYS);
    let description = required(
        &mut errors,
        top,
        "description",
        "what the scenario teaches, in one sentence",
    )
    .and_then(|v| typed::<String>(&mut errors, v));
    let fault = required(
        &mut errors,
        top,
        "fault",
        "a fault such as \"reset\" or { kind = \"status\", code = 503 }",
    )
    .and_then(|v| fault_of(&mut errors, v));
    let tls = match top.get("tls") {
        Some(value) => tls_of(&mut errors, value),
        None => Some(false),
    };
    if let (Some(fault), Some(tls)) = (&fault, tls) {
        checks::across(&mut errors, top, fault, tls);
    }
    let dns = dns_of(&mut errors, top);
    let client = required(
        &mut errors,
        top,
        "client",
        "run = [\"program\", \"{url}\"] or reqwest = {}",
    )
    .and_then(|v| client_of(&mut errors, v));
    let expect = match top.get("expect") {
        Some(value) => expect_of(&mut errors, value),
        None => {
            errors.file("no [expect] section; a scenario that expects nothing can never fail");
            None
        }
    };
    match (description, fault, tls, dns, client, expect) {
        (
            Some(description),
            Some(fault),
            Some(tls),
            Ok(dns),
            Some((client, deadline)),
            Some(expect),
        ) if errors.is_empty() => Ok(Scenario {
            path: path.to_owned(),
            description,
            fault,
            tls,
            client,
            dns,
            deadline,
            expect,
        }),
        _ => Err(errors.finish()),
    }
}

fn unknown_keys(errors: &mut Errors, table: &DeTable, section: &str, known: &[&str]) {
    for key in table.keys() {
        let name = key.get_ref().as_ref();
        if known.contains(&name) {
            continue;
        }
        errors.at_with(key.span(), || {
            let place = if section.is_empty() {
                String::new()
            } else {
                format!(" in [{section}]")
            };
            let hint = nearest(name, known.iter().copied())
                .map(|n| format!("; did you mean {n:?}?"))
                .unwrap_or_default();
            format!(
                "unknown key {name:?}{place}{hint}; expected one of {}",
                known.join(", ")
            )
        });
    }
}

fn required<'a, 'i>(
    errors: &mut Errors,
    table: &'a DeTable<'i>,
    key: &str,
    what: &str,
) -> Option<&'a Value<'i>> {
    let value = table.get(key);
    if value.is_none() {
        errors.file(format!("missing {key:?}: give {what}"));
    }
    value
}

/// Deserializes one value, recording serde's error at its place in the file.
fn typed<T: DeserializeOwned>(errors: &mut Errors, value: &Value) -> Option<T> {
    T::deserialize(ValueDeserializer::from(value.clone()))
        .map_err(|e| located(errors, value, &e))
        .ok()
}

fn located(errors: &mut Errors, value: &Value, error: &toml::de::Error) {
    errors.at(
        error.span().unwrap_or(value.span()),
        plain(error.message().trim_end()),
    );
}

fn table<'a, 'i>(errors: &mut Errors, value: &'a Value<'i>, what: &str) -> Option<&'a DeTable<'i>> {
    let table = value.get_ref().as_table();
    if table.is_none() {
        errors.at(
            value.span(),
            format!(
                "{what} must be a table, found a {}",
                value.get_ref().type_str()
            ),
        );
    }
    table
}

fn fault_of(errors: &mut Errors, value: &Value) -> Option<Fault> {
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
    if let Err(reason) = fault.validate() {
        errors.at(
            value.span(),
            format!("invalid {} fault: {reason}", fault.name()),
        );
        return None;
    }
    Some(fault)
}

fn tls_of(errors: &mut Errors, value: &Value) -> Option<bool> {
    let tls = value.get_ref().as_bool();
    if tls.is_none() {
        errors.at(
            value.span(),
            format!(
                "`tls` must be true (serve the fault behind TLS) or false, found a {}",
                value.get_ref().type_str()
            ),
        );
    }
    tls
}

/// Checks each route of a `routes` fault on its own, so that an error points
/// at its route rather than at the whole fault. True when every route is valid.
fn routes_located(errors: &mut Errors, value: &Value) -> bool {
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
        if let Err(reason) = route.validate() {
            errors.at(entry.span(), format!("invalid route {i}: {reason}"));
            valid = false;
        }
    }
    valid
}

/// `host` and `[dns]`: `Ok(None)` when the scenario has neither.
fn dns_of(errors: &mut Errors, top: &DeTable) -> Result<Option<Dns>, ()> {
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

fn names_of(errors: &mut Errors, value: &Value) -> Option<BTreeMap<String, DnsFault>> {
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

fn client_of(errors: &mut Errors, value: &Value) -> Option<(Client, Duration)> {
    let client = table(errors, value, "client")?;
    unknown_keys(errors, client, "client", CLIENT_KEYS);
    let deadline = match client.get("timeout") {
        Some(v) => duration_of(errors, v).filter(|d| checks::deadline(errors, v, *d)),
        None => Some(DEFAULT_DEADLINE),
    };
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
    Some((chosen?, deadline?))
}

fn run_of(errors: &mut Errors, value: &Value) -> Option<Vec<String>> {
    let run: Vec<String> = typed(errors, value)?;
    let Some(program) = run.first() else {
        errors.at(
            value.span(),
            "`run` is empty; give the program and its arguments",
        );
        return None;
    };
    if !command_exists(program) {
        errors.at(value.span(), missing_command(program));
        return None;
    }
    for arg in &run[1..] {
        let path = Path::new(arg);
        if arg.contains('/') && !arg.contains('{') && !arg.contains("://") && !path.exists() {
            errors.at(
                value.span(),
                format!("file {arg:?} not found (paths are relative to where outage runs)"),
            );
            return None;
        }
    }
    Some(run)
}

fn reqwest_of(errors: &mut Errors, value: &Value) -> Option<ReqwestSettings> {
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
    Some(settings)
}

fn duration_of(errors: &mut Errors, value: &Value) -> Option<Duration> {
    let text: String = typed(errors, value)?;
    duration::parse(&text)
        .map_err(|message| errors.at(value.span(), message))
        .ok()
}

fn expect_of(errors: &mut Errors, value: &Value) -> Option<Expect> {
    let section = table(errors, value, "expect")?;
    unknown_keys(errors, section, "expect", EXPECT_KEYS);
    let mut expect = Expect::default();
    let mut ok = true;
    for (key, value) in section {
        let parsed = match key.get_ref().as_ref() {
            "error" => typed(errors, value).map(|v| expect.error = Some(v)),
            "class" => typed(errors, value).map(|v| expect.class = Some(v)),
            "status" => typed(errors, value).map(|v| expect.status = Some(v)),
            "attempts" => count_of(errors, value).map(|v| expect.attempts = Some(v)),
            "gaps" => typed::<Gaps>(errors, value)
                .filter(|gaps| checks::gaps(errors, value, gaps))
                .map(|v| expect.gaps = Some(v)),
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

fn count_of(errors: &mut Errors, value: &Value) -> Option<Count> {
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

fn output_of(errors: &mut Errors, value: &Value) -> Option<Vec<String>> {
    if value.get_ref().is_str() {
        return typed(errors, value).map(|s| vec![s]);
    }
    typed(errors, value)
}

/// True when `program` names an executable file, by path or on `PATH`.
fn command_exists(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(Path::new(program));
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| executable(&dir.join(program)))
    })
}

/// Why `program`, which [`command_exists`] refused, cannot run: a file that
/// is there but not executable, or nothing there at all.
fn missing_command(program: &str) -> String {
    let file = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
    };
    match file {
        Some(file) => format!(
            "command {program:?} is not executable ({} lacks the execute permission); \
             make it executable with `chmod +x {}`, or name its interpreter first, \
             as in [\"sh\", {program:?}]",
            file.display(),
            file.display()
        ),
        None if program.contains('/') => format!(
            "command {program:?} not found (paths are relative to where outage runs); fix the path"
        ),
        None => format!("command {program:?} not found on PATH; install it or fix the name"),
    }
}
