//! The scenario file as written: TOML values with their places in the
//! file, read one key at a time, each error recorded where it is.

use std::time::Duration;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::duration;
use crate::scenario::error::Errors;
use crate::words::{nearest, plain};

/// A value as written, with its place in the file.
pub(super) type Value<'i> = Spanned<DeValue<'i>>;

pub(super) fn unknown_keys(errors: &mut Errors, table: &DeTable, section: &str, known: &[&str]) {
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

pub(super) fn required<'a, 'i>(
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
pub(super) fn typed<T: DeserializeOwned>(errors: &mut Errors, value: &Value) -> Option<T> {
    T::deserialize(ValueDeserializer::from(value.clone()))
        .map_err(|e| located(errors, value, &e))
        .ok()
}

pub(super) fn located(errors: &mut Errors, value: &Value, error: &toml::de::Error) {
    errors.at(
        error.span().unwrap_or(value.span()),
        plain(error.message().trim_end()),
    );
}

pub(super) fn table<'a, 'i>(
    errors: &mut Errors,
    value: &'a Value<'i>,
    what: &str,
) -> Option<&'a DeTable<'i>> {
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

pub(super) fn duration_of(errors: &mut Errors, value: &Value) -> Option<Duration> {
    let text: String = typed(errors, value)?;
    duration::parse(&text)
        .map_err(|message| errors.at(value.span(), message))
        .ok()
}
