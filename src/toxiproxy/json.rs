//! The JSON the API answers with, field for field as Toxiproxy writes it.

use serde::Serialize;
use serde_json::Value;

use crate::toxic::{Direction, Toxic};

/// A proxy with its toxics: `{"name","listen","upstream","enabled","toxics"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ProxyJson {
    /// Its unique name.
    pub(crate) name: String,
    /// The address it listens on (or will, while disabled).
    pub(crate) listen: String,
    /// The `host:port` it forwards to.
    pub(crate) upstream: String,
    /// True while it accepts connections.
    pub(crate) enabled: bool,
    /// `[]` when there are none, never `null`.
    pub(crate) toxics: Vec<ToxicJson>,
}

impl ProxyJson {
    /// A proxy's JSON, its toxics listed as Toxiproxy lists them.
    pub(crate) fn new(
        name: &str,
        listen: &str,
        upstream: &str,
        enabled: bool,
        toxics: &[Toxic],
    ) -> ProxyJson {
        ProxyJson {
            name: name.to_owned(),
            listen: listen.to_owned(),
            upstream: upstream.to_owned(),
            enabled,
            toxics: in_chain_order(toxics).iter().map(ToxicJson::from).collect(),
        }
    }

    /// How many of its toxics act each way, upstream first.
    pub(crate) fn toxics_by_direction(&self) -> [(&'static str, usize); 2] {
        let upstream = self
            .toxics
            .iter()
            .filter(|t| t.stream == Direction::Upstream)
            .count();
        [
            ("upstream", upstream),
            ("downstream", self.toxics.len() - upstream),
        ]
    }
}

/// A toxic: `{"attributes","name","type","stream","toxicity"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ToxicJson {
    /// Its kind's attributes.
    attributes: Value,
    /// Its name, unique within its proxy.
    name: String,
    /// Its kind's name.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The direction it acts on.
    stream: Direction,
    /// The probability that it acts on a connection.
    toxicity: f32,
}

impl From<&Toxic> for ToxicJson {
    fn from(toxic: &Toxic) -> ToxicJson {
        ToxicJson {
            attributes: attributes(toxic),
            name: toxic.name.clone(),
            kind: toxic.kind.type_name(),
            stream: toxic.stream,
            toxicity: toxic.toxicity,
        }
    }
}

/// The toxic's attributes object, as its kind writes them.
pub(crate) fn attributes(toxic: &Toxic) -> Value {
    // A toxic kind is plain data: it always serializes.
    let kind = serde_json::to_value(&toxic.kind).unwrap_or_default();
    match kind {
        Value::Object(mut fields) => fields.remove("attributes").unwrap_or_default(),
        _ => Value::Object(Default::default()),
    }
}

/// The toxics as Toxiproxy lists them: its upstream chain, then its
/// downstream chain, each in the order they were added.
pub(crate) fn in_chain_order(toxics: &[Toxic]) -> Vec<Toxic> {
    let mut ordered = toxics.to_vec();
    ordered.sort_by_key(|toxic| toxic.stream == Direction::Downstream);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::ToxicKind;

    #[test]
    fn a_proxy_writes_its_toxics_upstream_first_and_never_null() {
        let down = Toxic::new(ToxicKind::Noop {}, Direction::Downstream);
        let up = Toxic::new(ToxicKind::LimitData { bytes: 5 }, Direction::Upstream);
        let json = ProxyJson::new("db", "127.0.0.1:1", "db:5432", true, &[down, up]);
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            r#"{"name":"db","listen":"127.0.0.1:1","upstream":"db:5432","enabled":true,"toxics":[{"attributes":{"bytes":5},"name":"limit_data_upstream","type":"limit_data","stream":"upstream","toxicity":1.0},{"attributes":{},"name":"noop_downstream","type":"noop","stream":"downstream","toxicity":1.0}]}"#
        );
        let none = ProxyJson::new("db", "", "db:5432", false, &[]);
        assert!(
            serde_json::to_string(&none)
                .unwrap()
                .ends_with(r#""toxics":[]}"#)
        );
    }
}
