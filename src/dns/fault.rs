//! `DnsFault`: what looking up one name does.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::words::nearest;

/// What looking up one name does.
///
/// In a scenario file each is its kebab-case name (`"nxdomain"`), or a table
/// for settings (`{ kind = "slow", delay = "3s" }`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsFault {
    /// The name resolves to the fault server's address.
    Server,
    /// The name does not exist (`NXDOMAIN`): a permanent failure.
    Nxdomain,
    /// The resolver failed (`SERVFAIL`): a temporary failure.
    Servfail,
    /// The query is never answered; only the client's timeouts end the lookup.
    NoAnswer,
    /// The name resolves to the fault server's address, after `delay`.
    Slow {
        /// How long the answer takes.
        delay: Duration,
    },
}

/// Every fault's name, in the order help text lists them.
const NAMES: &[&str] = &["server", "nxdomain", "servfail", "no-answer", "slow"];

impl DnsFault {
    /// The delay of `slow` when none is given.
    pub const DEFAULT_DELAY: Duration = Duration::from_secs(2);

    /// The fault called `name` (kebab-case), with default settings.
    pub fn named(name: &str) -> Result<DnsFault, UnknownDnsFault> {
        Ok(match name {
            "server" => DnsFault::Server,
            "nxdomain" => DnsFault::Nxdomain,
            "servfail" => DnsFault::Servfail,
            "no-answer" => DnsFault::NoAnswer,
            "slow" => DnsFault::Slow {
                delay: Self::DEFAULT_DELAY,
            },
            _ => return Err(UnknownDnsFault(name.to_owned())),
        })
    }

    /// The fault's kebab-case name.
    pub fn name(&self) -> &'static str {
        match self {
            DnsFault::Server => "server",
            DnsFault::Nxdomain => "nxdomain",
            DnsFault::Servfail => "servfail",
            DnsFault::NoAnswer => "no-answer",
            DnsFault::Slow { .. } => "slow",
        }
    }
}

/// A name that is no DNS fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownDnsFault(pub String);

impl fmt::Display for UnknownDnsFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown DNS fault {:?}", self.0)?;
        if let Some(near) = nearest(&self.0, NAMES.iter().copied()) {
            write!(f, "; did you mean {near:?}?")?;
        }
        write!(f, "; expected one of {}", NAMES.join(", "))
    }
}

/// The table form: `kind` and the settings of that kind.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Table {
    Server,
    Nxdomain,
    Servfail,
    NoAnswer,
    Slow {
        #[serde(default = "default_delay", with = "crate::duration")]
        delay: Duration,
    },
}

fn default_delay() -> Duration {
    DnsFault::DEFAULT_DELAY
}

impl<'de> Deserialize<'de> for DnsFault {
    /// A name (`"servfail"`) or a table (`{ kind = "slow", delay = "3s" }`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DnsFault;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a DNS fault: one of {}, or a table with `kind`",
                    NAMES.join(", ")
                )
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<DnsFault, E> {
                DnsFault::named(name).map_err(E::custom)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DnsFault, A::Error> {
                let table = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(match table {
                    Table::Server => DnsFault::Server,
                    Table::Nxdomain => DnsFault::Nxdomain,
                    Table::Servfail => DnsFault::Servfail,
                    Table::NoAnswer => DnsFault::NoAnswer,
                    Table::Slow { delay } => DnsFault::Slow { delay },
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<DnsFault, String> {
        #[derive(Deserialize)]
        struct Doc {
            fault: DnsFault,
        }
        toml::from_str::<Doc>(toml)
            .map(|d| d.fault)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn faults_read_as_names_or_tables_with_defaults() {
        assert_eq!(parse("fault = \"no-answer\""), Ok(DnsFault::NoAnswer));
        assert_eq!(
            parse("fault = \"slow\""),
            Ok(DnsFault::Slow {
                delay: DnsFault::DEFAULT_DELAY
            })
        );
        assert_eq!(
            parse("fault = { kind = \"slow\", delay = \"3s\" }"),
            Ok(DnsFault::Slow {
                delay: Duration::from_secs(3)
            })
        );
        for name in NAMES {
            assert_eq!(DnsFault::named(name).map(|f| f.name()), Ok(*name));
        }
    }

    #[test]
    fn an_unknown_fault_suggests_the_nearest_name() {
        assert_eq!(
            parse("fault = \"nxdomian\""),
            Err("unknown DNS fault \"nxdomian\"; did you mean \"nxdomain\"?; expected one of server, nxdomain, servfail, no-answer, slow".to_owned())
        );
    }
}
