//! Reading request bodies as leniently as Toxiproxy's Go decoder does.
//!
//! Go's `json.Decoder` reads the first JSON value and ignores what follows,
//! matches field names without regard to case, ignores unknown fields, and
//! treats `null` as "not given". [`first_value`] and [`Fields`] do the same,
//! so that bodies Toxiproxy accepts are accepted here.

use serde_json::{Map, Value};

use super::error::ApiError;

/// The first JSON value of `body`; an empty body is an error, as in Go.
pub(crate) fn first_value(body: &[u8]) -> Result<Value, ApiError> {
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match values.next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(ApiError::bad_body(error)),
        None => Err(ApiError::bad_body("EOF")),
    }
}

/// The fields of a JSON object, looked up as Go looks them up.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be an object or `null` (no fields);
    /// `what` names it in the error.
    pub(crate) fn of(value: &'a Value, what: &str) -> Result<Fields<'a>, ApiError> {
        match value {
            Value::Object(map) => Ok(Fields { map: Some(map) }),
            Value::Null => Ok(Fields { map: None }),
            other => Err(ApiError::bad_body(format!(
                "{what} must be a JSON object, not {}",
                kind(other)
            ))),
        }
    }

    /// The value of `key`: an exact match first, then one in another case;
    /// `null` counts as missing.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        let map = self.map?;
        let found = map.get(key).or_else(|| {
            map.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
                .map(|(_, value)| value)
        });
        found.filter(|value| !value.is_null())
    }

    /// The string `key`, if given.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(wrong_type(key, "a string", other)),
        }
    }

    /// The boolean `key`, if given.
    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong_type(key, "true or false", other)),
        }
    }

    /// The number `key`, if given.
    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(other) => Err(wrong_type(key, "a number", other)),
        }
    }
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> ApiError {
    ApiError::bad_body(format!(
        "field \"{key}\" must be {expected}, not {}",
        kind(found)
    ))
}

/// What a JSON value is, with an article, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_value_is_read_and_an_empty_body_is_eof() {
        assert_eq!(first_value(b"{\"a\":1} trailing").unwrap()["a"], 1);
        assert_eq!(
            first_value(b"").unwrap_err().message,
            "bad request body: EOF"
        );
        assert!(
            first_value(b"{\"a\"")
                .unwrap_err()
                .message
                .starts_with("bad request body: ")
        );
    }

    #[test]
    fn names_match_in_any_case_and_null_is_not_given() {
        let value = first_value(br#"{"Name":"db","upstream":null,"ENABLED":false}"#).unwrap();
        let fields = Fields::of(&value, "a proxy").unwrap();
        assert_eq!(fields.string("name").unwrap().as_deref(), Some("db"));
        assert_eq!(fields.string("upstream").unwrap(), None);
        assert_eq!(fields.boolean("enabled").unwrap(), Some(false));
        assert_eq!(
            fields.boolean("name").unwrap_err().message,
            "bad request body: field \"name\" must be true or false, not a string"
        );
    }

    #[test]
    fn a_null_body_has_no_fields_and_an_array_is_refused() {
        let fields = Fields::of(&Value::Null, "a proxy").unwrap();
        assert_eq!(fields.string("name").unwrap(), None);
        assert_eq!(
            Fields::of(&serde_json::json!([]), "a proxy")
                .err()
                .unwrap()
                .message,
            "bad request body: a proxy must be a JSON object, not an array"
        );
    }
}
