//! TCP toxics, as Toxiproxy defines them: protocol-agnostic changes to the
//! bytes flowing one way through a TCP proxy (`ToxicProxy`).
//!
//! A [`Toxic`] has a name, a [`Direction`] (`upstream`: client to server;
//! `downstream`: server to client), a `toxicity` (the probability that it
//! acts on a given connection) and a [`ToxicKind`] with its attributes. It
//! reads and writes as Toxiproxy's JSON:
//! `{"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":100,"jitter":0}}`.
//!
//! [`Toxics`] is the live set of one proxy's toxics, shared by its
//! connections: a change applies to connections already open.
//!
//! The code of each toxic is a leaf of its own (`latency`, `bandwidth`,
//! `slow_close`, `timeout`, `reset_peer`, `slicer`, `limit_data`; `noop` in
//! `leaf`), implementing one `Pipe` method over the chunks of one direction
//! of one connection, as Toxiproxy's toxics do; `stub` is what they act on,
//! `leaf` the one dispatch from a [`ToxicKind`] to its code, and `draw` the
//! reproducible random draws (toxicity, jitter, slice sizes).

mod bandwidth;
pub(crate) mod draw;
mod latency;
pub(crate) mod leaf;
mod limit_data;
mod reset_peer;
mod slicer;
mod slow_close;
pub(crate) mod stub;
mod timeout;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::fault::Fault;
use tokio::sync::watch;

/// Which way the bytes a toxic acts on flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the client to the upstream service.
    Upstream,
    /// From the upstream service back to the client (the default).
    #[default]
    Downstream,
}

/// What a toxic does, with its attributes, in Toxiproxy's units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToxicKind {
    /// Delays each chunk by `latency` ms, plus or minus up to `jitter` ms.
    Latency {
        /// Milliseconds.
        #[serde(default)]
        latency: i64,
        /// Milliseconds, drawn uniformly in `[-jitter, jitter]` per chunk.
        #[serde(default)]
        jitter: i64,
    },
    /// Limits the rate to `rate` KB/s; 0 or less is unlimited.
    Bandwidth {
        /// KB (1000 bytes) per second.
        #[serde(default)]
        rate: i64,
    },
    /// Delays the close by `delay` ms once the source has closed.
    SlowClose {
        /// Milliseconds.
        #[serde(default)]
        delay: i64,
    },
    /// Drops all data, and closes the connection after `timeout` ms (0: never).
    Timeout {
        /// Milliseconds.
        #[serde(default)]
        timeout: i64,
    },
    /// On the first data, waits `timeout` ms, then resets (TCP RST).
    ResetPeer {
        /// Milliseconds.
        #[serde(default)]
        timeout: i64,
    },
    /// Splits data into slices of about `average_size` bytes, `delay` µs apart.
    Slicer {
        /// Bytes.
        #[serde(default)]
        average_size: i64,
        /// Bytes, drawn uniformly in `[-size_variation, size_variation]`.
        #[serde(default)]
        size_variation: i64,
        /// Microseconds between slices.
        #[serde(default)]
        delay: i64,
    },
    /// Closes the connection once `bytes` bytes have passed.
    LimitData {
        /// Bytes, per connection.
        #[serde(default)]
        bytes: i64,
    },
    /// Does nothing.
    Noop {},
    /// An outage fault acting on each HTTP/1.1 request in front of the
    /// upstream, as `outage proxy --upstream` does; its attributes are the
    /// fault as a scenario file writes it, `{"kind": "status", "code": 503}`.
    /// A proxy takes one, whatever its stream; new connections meet it.
    Outage(Fault),
}

impl ToxicKind {
    /// The type's name, as in Toxiproxy's `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
            ToxicKind::Noop {} => "noop",
            ToxicKind::Outage(_) => "outage",
        }
    }
}

/// One toxic of a proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Toxic {
    /// Unique within its proxy; `<type>_<stream>` unless given.
    pub name: String,
    /// What it does.
    #[serde(flatten)]
    pub kind: ToxicKind,
    /// The direction it acts on.
    pub stream: Direction,
    /// The probability, from 0 to 1, that it acts on a connection: drawn
    /// once per connection and direction when the toxic starts on it.
    pub toxicity: f32,
}

impl Toxic {
    /// A toxic of `kind` on `stream`, acting on every connection, named
    /// `<type>_<stream>`.
    pub fn new(kind: ToxicKind, stream: Direction) -> Toxic {
        let name = format!("{}_{}", kind.type_name(), direction_name(stream));
        Toxic {
            name,
            kind,
            stream,
            toxicity: 1.0,
        }
    }

    /// The same toxic under another name.
    pub fn named(mut self, name: impl Into<String>) -> Toxic {
        self.name = name.into();
        self
    }

    /// The same toxic acting on a connection with probability `toxicity`.
    pub fn toxicity(mut self, toxicity: f32) -> Toxic {
        self.toxicity = toxicity;
        self
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Upstream => "upstream",
        Direction::Downstream => "downstream",
    }
}

/// A change to a proxy's toxics that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToxicError {
    /// A toxic of that name exists already.
    #[error("toxic already exists")]
    Exists,
    /// No toxic has that name.
    #[error("toxic not found")]
    NotFound,
    /// The proxy has an `outage` toxic already.
    #[error("a proxy takes one outage toxic; combine faults with sequence, chance or routes")]
    SecondOutage,
}

/// The live toxics of one proxy, shared by all its connections. Cloning is
/// cheap; clones share the same set.
#[derive(Clone, Default)]
pub struct Toxics {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    list: Mutex<Vec<Toxic>>,
    /// Bumped on every change, so links see a new set.
    changed: watch::Sender<u64>,
    /// The seed of every random draw of these toxics.
    seed: u64,
}

impl std::fmt::Debug for Toxics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list()).finish()
    }
}

impl Toxics {
    /// An empty set whose random draws (toxicity, jitter, slice sizes) come
    /// from `seed`: the same seed replays the same draws on the same
    /// connections. [`Toxics::default`] uses seed 0.
    pub fn with_seed(seed: u64) -> Toxics {
        Toxics {
            shared: Arc::new(Shared {
                seed,
                ..Shared::default()
            }),
        }
    }

    /// The seed of the random draws.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Toxic>> {
        self.shared.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.shared.changed.send_modify(|version| *version += 1);
    }

    /// Every toxic, in the order they were added.
    pub fn list(&self) -> Vec<Toxic> {
        self.lock().clone()
    }

    /// The toxic called `name`.
    pub fn get(&self, name: &str) -> Option<Toxic> {
        self.lock().iter().find(|t| t.name == name).cloned()
    }

    /// The fault of the `outage` toxic, if there is one.
    pub fn outage(&self) -> Option<Fault> {
        self.lock().iter().find_map(|t| match &t.kind {
            ToxicKind::Outage(fault) => Some(fault.clone()),
            _ => None,
        })
    }

    /// Adds `toxic`, unless one of the same name exists, or it is a second
    /// `outage` toxic.
    pub fn add(&self, toxic: Toxic) -> Result<Toxic, ToxicError> {
        {
            let mut list = self.lock();
            if list.iter().any(|t| t.name == toxic.name) {
                return Err(ToxicError::Exists);
            }
            let outage = |t: &Toxic| matches!(t.kind, ToxicKind::Outage(_));
            if outage(&toxic) && list.iter().any(outage) {
                return Err(ToxicError::SecondOutage);
            }
            list.push(toxic.clone());
        }
        self.changed();
        Ok(toxic)
    }

    /// Replaces the toxic called `name` by what `update` makes of it.
    pub fn update(&self, name: &str, update: impl FnOnce(&mut Toxic)) -> Result<Toxic, ToxicError> {
        let updated = {
            let mut list = self.lock();
            let toxic = list
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or(ToxicError::NotFound)?;
            update(toxic);
            toxic.clone()
        };
        self.changed();
        Ok(updated)
    }

    /// Removes the toxic called `name`.
    pub fn remove(&self, name: &str) -> Result<(), ToxicError> {
        {
            let mut list = self.lock();
            let before = list.len();
            list.retain(|t| t.name != name);
            if list.len() == before {
                return Err(ToxicError::NotFound);
            }
        }
        self.changed();
        Ok(())
    }

    /// Removes every toxic.
    pub fn clear(&self) {
        self.lock().clear();
        self.changed();
    }

    /// A receiver that wakes on every change.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.shared.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toxic_reads_and_writes_as_toxiproxy_json() {
        let json = r#"{"name":"lag","type":"latency","stream":"upstream","toxicity":0.5,"attributes":{"latency":100,"jitter":10}}"#;
        let toxic: Toxic = serde_json::from_str(json).unwrap();
        assert_eq!(
            toxic,
            Toxic::new(
                ToxicKind::Latency {
                    latency: 100,
                    jitter: 10
                },
                Direction::Upstream
            )
            .named("lag")
            .toxicity(0.5)
        );
        let written = serde_json::to_value(&toxic).unwrap();
        assert_eq!(
            written,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn names_are_unique_and_changes_are_seen() {
        let toxics = Toxics::default();
        let mut seen = toxics.watch();
        let noop = Toxic::new(ToxicKind::Noop {}, Direction::Downstream);
        assert_eq!(noop.name, "noop_downstream");
        toxics.add(noop.clone()).unwrap();
        assert_eq!(toxics.add(noop), Err(ToxicError::Exists));
        assert!(seen.has_changed().unwrap());
        seen.borrow_and_update();
        toxics
            .update("noop_downstream", |t| t.toxicity = 0.0)
            .unwrap();
        assert!(seen.has_changed().unwrap());
        assert_eq!(toxics.remove("nope"), Err(ToxicError::NotFound));
        toxics.remove("noop_downstream").unwrap();
        assert!(toxics.list().is_empty());
    }
}
