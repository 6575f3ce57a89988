//! Reading scenario files: the file, its TOML, and the scenario assembled
//! from its sections (`raw` reads each value as written, `validate` turns
//! it into a real one), every error located.

use std::path::Path;

use toml::de::DeTable;

use crate::scenario::error::{Errors, LoadErrors};
use crate::scenario::raw::{required, typed, unknown_keys};
use crate::scenario::upstream::upstream_of;
use crate::scenario::validate::{client_of, dns_of, expect_of, fault_of, flag_of};
use crate::scenario::{Scenario, checks, deep, files};

const TOP_KEYS: &[&str] = &[
    "description",
    "fault",
    "tls",
    "http2",
    "host",
    "dns",
    "client",
    "expect",
    "surprise",
    "upstream",
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
        Some(value) => flag_of(&mut errors, value, "tls", "serve the fault behind TLS"),
        None => Some(false),
    };
    let http2 = match top.get("http2") {
        Some(value) => flag_of(&mut errors, value, "http2", "serve HTTP/2 as well"),
        None => Some(false),
    };
    if let (Some(fault), Some(tls)) = (&fault, tls) {
        checks::across(&mut errors, top, fault, tls);
    }
    let dns = dns_of(&mut errors, top);
    let upstream = match top.get("upstream") {
        Some(value) => upstream_of(&mut errors, value).map(Some),
        None => Some(None),
    };
    if let (Some(upstream), Some(fault), Some(http2)) = (&upstream, &fault, http2) {
        checks::http2(&mut errors, top, fault, http2, upstream.is_some());
    }
    let client = required(
        &mut errors,
        top,
        "client",
        "run = [\"program\", \"{url}\"] or reqwest = {}",
    )
    .and_then(|v| client_of(&mut errors, v));
    let surprise = match top.get("surprise") {
        Some(value) => typed::<String>(&mut errors, value).map(Some),
        None => Some(None),
    };
    let expect = match top.get("expect") {
        Some(value) => expect_of(&mut errors, value),
        None => {
            errors.file("no [expect] section; a scenario that expects nothing can never fail");
            None
        }
    };
    match (
        description,
        fault,
        (tls, http2),
        dns,
        upstream,
        client,
        expect,
        surprise,
    ) {
        (
            Some(description),
            Some(fault),
            (Some(tls), Some(http2)),
            Ok(dns),
            Some(upstream),
            Some(client),
            Some(expect),
            Some(surprise),
        ) if errors.is_empty() => Ok(Scenario {
            path: path.to_owned(),
            description,
            fault,
            tls,
            http2,
            client: client.client,
            client_at: client.at,
            label: client.label,
            build: client.build,
            surprise,
            dns,
            upstream,
            deadline: client.deadline,
            expect,
        }),
        _ => Err(errors.finish()),
    }
}
