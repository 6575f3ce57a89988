//! Durations as users write them, in scenario files and on the command line:
//! `"250ms"`, `"2s"`, `"1m"`. Serde helpers for `#[serde(with = ...)]`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses a duration, or says what one looks like.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    if text.trim_start().starts_with('-') {
        return Err(format!(
            "negative duration {text:?}; a duration is 0 or more, such as \"250ms\" or \"2s\""
        ));
    }
    humantime::parse_duration(text).map_err(|error| match error {
        humantime::DurationError::NumberOverflow => format!(
            "duration {text:?} is longer than any duration can be (about 584 billion years); write a shorter one"
        ),
        _ => format!(
            "bad duration {text:?}; write a number and a unit, such as \"250ms\", \"2s\" or \"1m\""
        ),
    })
}

/// Writes a duration in words (`"2s"`, `"1m 30s"`), as scenario files
/// write them.
pub(crate) fn serialize<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*duration))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    let Written(text) = Written::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// A duration as written: text, or a bare number refused for want of a unit.
struct Written(String);

impl<'de> Deserialize<'de> for Written {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Written;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as \"250ms\" or \"2s\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Written, E> {
                Ok(Written(text.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Written, E> {
                Err(E::custom(unitless(&n.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Written, E> {
                Err(E::custom(unitless(&n.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Written, E> {
                Err(E::custom(unitless(&n.to_string())))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn unitless(number: &str) -> String {
    format!(
        "bad duration {number}: a duration needs its unit, such as \"{number}s\" or \"{number}ms\""
    )
}

/// `Option<Duration>` fields.
pub(crate) mod option {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        super::deserialize(deserializer).map(Some)
    }
}

/// `Vec<Duration>` fields.
pub(crate) mod list {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        let texts = Vec::<Written>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|Written(t)| parse(t).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// `Duration` and `Option<Duration>` fields written and read as text
/// (`"1s 500ms"`), for `#[serde(with = "crate::duration::text")]`.
/// Writes a duration, or an optional one, as a number of seconds, for
/// programs to read (`0.076034315`).
pub(crate) fn seconds<T: Seconds, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.write_seconds(serializer)
}

/// A field type written as seconds.
pub(crate) trait Seconds {
    fn write_seconds<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

impl Seconds for Duration {
    fn write_seconds<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_secs_f64())
    }
}

impl Seconds for Option<Duration> {
    fn write_seconds<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(duration) => duration.write_seconds(serializer),
            None => serializer.serialize_none(),
        }
    }
}

pub(crate) mod text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    /// A field type that reads as a duration in words.
    pub(crate) trait Text: Sized {
        fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
    }

    impl Text for Duration {
        fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer)
        }
    }

    impl Text for Option<Duration> {
        fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Option::<super::Written>::deserialize(deserializer)?
                .map(|super::Written(text)| super::parse(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }

    /// Writes an optional duration in words; nothing for `None`.
    pub(crate) fn serialize<S: serde::Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => super::serialize(duration, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: Text, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::read(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_is_refused_for_want_of_a_unit() {
        #[derive(Debug, Deserialize)]
        struct Wait {
            #[serde(deserialize_with = "deserialize")]
            wait: Duration,
        }
        let error = serde_json::from_str::<Wait>(r#"{"wait": 2}"#).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "bad duration 2: a duration needs its unit, such as \"2s\" or \"2ms\""
            ),
            "{error}"
        );
        let wait = serde_json::from_str::<Wait>(r#"{"wait": "2s"}"#).unwrap();
        assert_eq!(wait.wait, Duration::from_secs(2));
    }

    #[test]
    fn a_negative_duration_is_named_as_such() {
        assert_eq!(
            parse("-1s"),
            Err(
                "negative duration \"-1s\"; a duration is 0 or more, such as \"250ms\" or \"2s\""
                    .to_owned()
            )
        );
        assert_eq!(parse("1s 500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn a_duration_too_long_to_represent_says_so() {
        assert_eq!(
            parse("600000000000y").unwrap_err(),
            "duration \"600000000000y\" is longer than any duration can be \
             (about 584 billion years); write a shorter one"
        );
        assert!(parse("2 parsecs").unwrap_err().starts_with("bad duration"));
    }
}
