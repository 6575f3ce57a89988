//! Toxics as requests give them: created or updated.
//!
//! A toxic's attributes are read onto those of its kind: a new toxic's
//! start at 0, an updated toxic's at their current values, and only the
//! attributes given change. The kinds themselves come from
//! [`ToxicKind`]'s serde form, so a new kind needs nothing here. An
//! `outage` toxic is the exception: its attributes are a fault's table.

use serde_json::{Value, json};

use crate::fault::Fault;
use crate::toxic::{Direction, Toxic, ToxicError, ToxicKind};

use super::error::ApiError;
use super::fields::{Fields, first_value, kind};

/// The body of `POST /proxies/{proxy}/toxics`. `taken` says whether a
/// name is in use, checked in Toxiproxy's order: after the stream and the
/// type, before the attributes.
pub(crate) fn create(body: &[u8], taken: impl Fn(&str) -> bool) -> Result<Toxic, ApiError> {
    let value = first_value(body)?;
    let fields = Fields::of(&value, "a toxic")?;
    let name = fields.string("name")?.unwrap_or_default();
    let type_name = fields.string("type")?.unwrap_or_default();
    let stream = fields.string("stream")?;
    let stream = stream.as_deref().unwrap_or("downstream");
    let toxicity = fields.number("toxicity")?.map_or(1.0, |t| t as f32);
    let attributes = attributes(&fields)?;
    let direction = direction(stream)?;
    let name = match name.as_str() {
        "" => format!("{type_name}_{stream}"),
        given => given.to_owned(),
    };
    let zero = match type_name.as_str() {
        OUTAGE => None,
        _ => Some(zero_kind(&type_name)?),
    };
    if taken(&name) {
        return Err(ToxicError::Exists.into());
    }
    let kind = match zero {
        Some(zero) => merged(&zero, attributes)?,
        None => outage(fields.get("attributes"), None)?,
    };
    Ok(Toxic::new(kind, direction).named(name).toxicity(toxicity))
}

/// The body of `PATCH /proxies/{proxy}/toxics/{toxic}`: the attributes
/// given, merged onto `toxic`'s, and its new toxicity, if given.
pub(crate) fn update(body: &[u8], toxic: &Toxic) -> Result<(ToxicKind, f32), ApiError> {
    let value = first_value(body)?;
    let fields = Fields::of(&value, "a toxic")?;
    let toxicity = fields.number("toxicity")?;
    let kind = match &toxic.kind {
        ToxicKind::Outage(fault) => outage(fields.get("attributes"), Some(fault))?,
        kind => merged(kind, attributes(&fields)?)?,
    };
    Ok((kind, toxicity.map_or(toxic.toxicity, |t| t as f32)))
}

/// The type of the toxics that carry an outage fault.
const OUTAGE: &str = "outage";

/// An `outage` toxic's fault: its attributes are the fault's table
/// (`{"kind": "status", "code": 503}`), given whole, or for an update,
/// merged onto the fault it has unless they name another `kind`.
fn outage(given: Option<&Value>, current: Option<&Fault>) -> Result<ToxicKind, ApiError> {
    let mut table = match current {
        Some(fault) => serde_json::to_value(fault).map_err(ApiError::bad_body)?,
        None => json!({}),
    };
    match (given, &mut table) {
        (Some(Value::Object(new)), Value::Object(old)) => {
            if new
                .get("kind")
                .is_some_and(|kind| Some(kind) != old.get("kind"))
            {
                old.clear();
            }
            old.extend(new.clone());
        }
        (Some(other), _) => {
            let found = kind(other);
            return Err(ApiError::bad_body(format!(
                "attributes must be a fault's table, such as {{\"kind\": \"status\", \"code\": 503}}, not {found}"
            )));
        }
        (None, _) => {}
    }
    let kind = table.get("kind").and_then(Value::as_str).map(str::to_owned);
    let fault: Fault = match serde_json::from_value(table) {
        Ok(fault) => fault,
        Err(error) => {
            let hint = kind
                .filter(|kind| Fault::named(kind).is_err())
                .and_then(|kind| crate::fault::nearest_name(&kind))
                .map(|near| format!(" (did you mean {near:?}?)"))
                .unwrap_or_default();
            let why = format!("the outage fault: {error}{hint}");
            return Err(ApiError::bad_body(why));
        }
    };
    fault.validate().map_err(ApiError::bad_body)?;
    if fault.is_listener_fault() {
        let why = format!(
            "{} shapes a listening socket, which a proxy's connections never meet; use the proxy's `enabled: false` or a `reset` fault",
            fault.name()
        );
        return Err(ApiError::bad_body(why));
    }
    Ok(ToxicKind::Outage(fault))
}

fn attributes<'a>(fields: &Fields<'a>) -> Result<Fields<'a>, ApiError> {
    Fields::of(
        fields.get("attributes").unwrap_or(&Value::Null),
        "attributes",
    )
}

/// `upstream` or `downstream`, in any case.
fn direction(stream: &str) -> Result<Direction, ApiError> {
    match stream.to_ascii_lowercase().as_str() {
        "upstream" => Ok(Direction::Upstream),
        "downstream" => Ok(Direction::Downstream),
        _ => Err(ApiError::invalid_stream()),
    }
}

/// The toxic of type `type_name` with every attribute at 0.
fn zero_kind(type_name: &str) -> Result<ToxicKind, ApiError> {
    serde_json::from_value(json!({"type": type_name, "attributes": {}}))
        .map_err(|_| ApiError::invalid_toxic_type())
}

/// `base` with the attributes in `given` in place of its own.
fn merged(base: &ToxicKind, given: Fields<'_>) -> Result<ToxicKind, ApiError> {
    let mut whole = serde_json::to_value(base).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(Value::Object(attributes)) = whole.get_mut("attributes") {
        for (key, value) in attributes.iter_mut() {
            let Some(new) = given.get(key) else { continue };
            if value.is_i64() && !new.is_i64() {
                let found = match new {
                    Value::Number(number) => number.to_string(),
                    other => kind(other).to_owned(),
                };
                let why = format!("attribute \"{key}\" must be an integer, not {found}");
                return Err(ApiError::bad_body(why));
            }
            *value = new.clone();
        }
    }
    serde_json::from_value(whole).map_err(ApiError::bad_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(_: &str) -> bool {
        false
    }

    #[test]
    fn defaults_are_downstream_full_toxicity_zero_attributes_and_a_made_up_name() {
        let toxic = create(br#"{"type":"latency","attributes":{"Latency":100}}"#, free).unwrap();
        let expected = ToxicKind::Latency {
            latency: 100,
            jitter: 0,
        };
        assert_eq!(toxic, Toxic::new(expected, Direction::Downstream));
        assert_eq!(toxic.name, "latency_downstream");
        let null = create(
            br#"{"type":"bandwidth","attributes":null,"stream":"UPSTREAM"}"#,
            free,
        );
        assert_eq!(null.unwrap().kind, ToxicKind::Bandwidth { rate: 0 });
    }

    #[test]
    fn bad_toxics_fail_in_toxiproxys_order() {
        let error = |body: &[u8], taken: fn(&str) -> bool| create(body, taken).unwrap_err();
        let bad_stream = error(br#"{"type":"nope","stream":"sideways"}"#, free);
        assert_eq!(bad_stream, ApiError::invalid_stream());
        assert_eq!(
            error(br#"{"type":"nope"}"#, free),
            ApiError::invalid_toxic_type()
        );
        let taken = error(br#"{"type":"noop","attributes":{"x":1}}"#, |_| true);
        assert_eq!(taken, ToxicError::Exists.into());
        assert_eq!(
            error(br#"{"type":"latency","attributes":{"latency":1.5}}"#, free).message,
            "bad request body: attribute \"latency\" must be an integer, not 1.5"
        );
        assert_eq!(
            error(br#"{"type":"latency","toxicity":"all"}"#, free).message,
            "bad request body: field \"toxicity\" must be a number, not a string"
        );
    }

    #[test]
    fn an_update_changes_only_the_attributes_given_and_the_toxicity() {
        let kind = ToxicKind::Latency {
            latency: 100,
            jitter: 10,
        };
        let toxic = Toxic::new(kind, Direction::Upstream).toxicity(0.5);
        let body = br#"{"attributes":{"jitter":20},"name":"x","stream":"downstream"}"#;
        let (kind, toxicity) = update(body, &toxic).unwrap();
        let expected = ToxicKind::Latency {
            latency: 100,
            jitter: 20,
        };
        assert_eq!((kind, toxicity), (expected, 0.5));
        let (_, toxicity) = update(br#"{"toxicity":0}"#, &toxic).unwrap();
        assert_eq!(toxicity, 0.0);
    }
}
