//! The toxics of one link as a chain of tasks, one per toxic, joined by
//! bounded channels and ended by a noop (the tail); `rewire` changes the
//! chain when the proxy's toxics change, without losing or reordering a
//! byte.

mod rewire;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::toxic::draw::{self, DrawKey};
use crate::toxic::leaf::{Leaf, Noop};
use crate::toxic::stub::{Chunk, Peers, Pipe, Stop, Stub};
use crate::toxic::{Direction, Toxic};

/// Chunks a channel between two stages holds: with reads of at most
/// 32 KiB, at most 4 MiB in flight per stage.
pub(super) const CHUNKS_IN_FLIGHT: usize = 128;

/// What the stages of one link share.
pub(super) struct Wiring {
    /// The seed of the proxy's toxics.
    pub(super) seed: u64,
    /// The connection's index in the proxy.
    pub(super) connection: u64,
    /// The link's direction.
    pub(super) direction: Direction,
    /// The connection's sockets.
    pub(super) peers: Peers,
    /// Set when a toxic closes the connection.
    pub(super) closing: Arc<AtomicBool>,
    /// Cancelled when the connection ends.
    pub(super) stop: CancellationToken,
}

/// What a stage runs.
#[derive(Debug, Clone)]
struct Role {
    /// Its toxic; `None` for the tail.
    toxic: Option<Toxic>,
    /// Whether the toxic acts on this link, as drawn from its toxicity.
    acting: bool,
    /// How often the toxic was updated on this link.
    generation: u64,
}

/// A stage about to start: its role and its stub.
struct Placed {
    role: Role,
    stub: Stub,
}

/// A running stage.
struct Stage {
    role: Role,
    /// Cancelled to interrupt it.
    interrupt: CancellationToken,
    /// Hands back why it stopped, and its stub.
    task: AbortOnDropHandle<(Stop, Stub)>,
}

/// The running stages of one link, in order, the tail last.
pub(super) struct Chain {
    wiring: Wiring,
    stages: Vec<Stage>,
    /// Set once nothing more can pass: the link is ending, and changes to
    /// the toxics no longer apply to it.
    ending: bool,
}

impl Chain {
    /// Starts the stages of `toxics` between `input` and `output`.
    pub(super) fn start(
        wiring: Wiring,
        toxics: Vec<Toxic>,
        input: mpsc::Receiver<Chunk>,
        output: mpsc::Sender<Chunk>,
    ) -> Chain {
        let mut chain = Chain {
            wiring,
            stages: Vec::new(),
            ending: false,
        };
        let mut placed: Vec<Placed> = toxics.into_iter().map(|t| chain.fresh(t)).collect();
        // The tail draws nothing: any generator will do.
        let tail = chain.wiring.stub(draw::unused());
        placed.push(Placed::tail(tail));
        chain.launch(placed, input, output);
        chain
    }

    /// Rewires the chain to run `wanted`, the toxics of its direction, in
    /// order; does nothing if they are those running.
    pub(super) async fn update(&mut self, wanted: Vec<Toxic>) {
        let running = self.stages.iter().filter_map(|s| s.role.toxic.as_ref());
        if self.ending || self.stages.is_empty() || running.eq(wanted.iter()) {
            return;
        }
        for stage in &self.stages {
            stage.interrupt.cancel();
        }
        let mut stopped = Vec::with_capacity(self.stages.len());
        for stage in self.stages.drain(..) {
            stopped.push(rewire::Stopped {
                role: stage.role,
                ended: stage.task.await.ok(),
            });
        }
        self.rebuild(stopped, wanted);
    }

    /// The stage of a toxic that stays, updated to `toxic` if that changed:
    /// a new draw of its toxicity, and its time restarted.
    fn kept(&self, role: Role, toxic: &Toxic, mut stub: Stub) -> Placed {
        if role.toxic.as_ref() == Some(toxic) {
            return Placed { role, stub };
        }
        if !role.acting {
            // What passed while the toxic did not act is not its own count.
            stub.passed = 0;
        }
        let generation = role.generation + 1;
        stub.rng = self.wiring.key(&toxic.name, generation).rng();
        stub.since = Instant::now();
        let role = Role {
            toxic: Some(toxic.clone()),
            acting: draw::acts(&mut stub.rng, toxic.toxicity),
            generation,
        };
        Placed { role, stub }
    }

    /// The stage of a toxic new on this link.
    fn fresh(&self, toxic: Toxic) -> Placed {
        let mut rng = self.wiring.key(&toxic.name, 0).rng();
        let role = Role {
            acting: draw::acts(&mut rng, toxic.toxicity),
            toxic: Some(toxic),
            generation: 0,
        };
        Placed {
            role,
            stub: self.wiring.stub(rng),
        }
    }

    /// Connects `placed` in order from `input` to `output` and starts them.
    fn launch(
        &mut self,
        placed: Vec<Placed>,
        mut input: mpsc::Receiver<Chunk>,
        output: mpsc::Sender<Chunk>,
    ) {
        let last = placed.len().saturating_sub(1);
        for (i, mut stage) in placed.into_iter().enumerate() {
            let (next_sender, next_input) = mpsc::channel(CHUNKS_IN_FLIGHT);
            stage.stub.input = std::mem::replace(&mut input, next_input);
            let to = if i == last {
                output.clone()
            } else {
                next_sender
            };
            stage.stub.output = Some(to);
            self.stages.push(stage.spawn(&self.wiring.stop));
        }
    }
}

impl Placed {
    fn tail(stub: Stub) -> Placed {
        let role = Role {
            toxic: None,
            acting: false,
            generation: 0,
        };
        Placed { role, stub }
    }

    /// Holds `own` first, then what the removed stages just before it held.
    fn carrying(mut self, own: VecDeque<Chunk>, removed_before: &mut VecDeque<Chunk>) -> Placed {
        self.stub.held = own;
        self.stub.held.append(removed_before);
        self
    }

    /// Runs the toxic, or a noop where it does not act, until it stops; an
    /// end (not an interrupt) is passed on at once.
    fn spawn(mut self, stop: &CancellationToken) -> Stage {
        let interrupt = stop.child_token();
        self.stub.interrupt = interrupt.clone();
        let leaf = match &self.role.toxic {
            Some(toxic) if self.role.acting => Leaf::of(&toxic.kind),
            _ => Leaf::Noop(Noop),
        };
        let mut stub = self.stub;
        let task = tokio::spawn(async move {
            let Err(stop) = leaf.pipe(&mut stub).await;
            if stop != Stop::Interrupted {
                stub.end(stop);
            }
            (stop, stub)
        });
        Stage {
            role: self.role,
            interrupt,
            task: AbortOnDropHandle::new(task),
        }
    }
}

impl Wiring {
    fn key<'a>(&self, name: &'a str, generation: u64) -> DrawKey<'a> {
        DrawKey {
            seed: self.seed,
            connection: self.connection,
            direction: self.direction,
            name,
            generation,
        }
    }

    fn stub(&self, rng: ChaCha8Rng) -> Stub {
        Stub {
            held: VecDeque::new(),
            input: closed(),
            output: None,
            interrupt: CancellationToken::new(),
            closing: self.closing.clone(),
            peers: self.peers.clone(),
            rng,
            since: Instant::now(),
            passed: 0,
        }
    }
}

/// An input that has ended.
fn closed() -> mpsc::Receiver<Chunk> {
    mpsc::channel(1).1
}
