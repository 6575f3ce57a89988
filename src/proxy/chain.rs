//! The toxics of one link as a chain of tasks, one per toxic, joined by
//! bounded channels and ended by a noop (the tail), and how the chain is
//! rewired when the proxy's toxics change.
//!
//! A change interrupts every stage. Each hands back its stub with what it
//! had not passed on; what waits in the channels between stages is drained
//! into the stub after it. The new chain then reuses the stubs of the toxics
//! that stay (their state on this connection stays too) and gives what a
//! removed toxic held to the next stage that stays, or to the tail, so no
//! byte is lost or reordered. New toxics join at the end, before the tail,
//! as in Toxiproxy.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::toxic::draw::{self, DrawKey};
use crate::toxic::leaf::{Leaf, Noop, Removal};
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

/// One running stage.
struct Stage {
    /// Its toxic; `None` for the tail.
    toxic: Option<Toxic>,
    /// Whether the toxic acts on this link, as drawn from its toxicity.
    acting: bool,
    /// How often the toxic was updated on this link.
    generation: u64,
    interrupt: CancellationToken,
    task: AbortOnDropHandle<(Stop, Stub)>,
}

/// A stage once interrupted: what it was and what it handed back.
struct Stopped {
    toxic: Option<Toxic>,
    acting: bool,
    generation: u64,
    /// Why it stopped, and its stub unless its task was lost.
    ended: Option<(Stop, Stub)>,
}

/// The running stages of one link, in order, the tail last.
pub(super) struct Chain {
    wiring: Wiring,
    stages: Vec<Stage>,
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
        };
        let mut placed: Vec<Placed> = toxics.into_iter().map(|t| chain.fresh(t)).collect();
        placed.push(Placed::tail(chain.wiring.stub(unused_rng())));
        chain.launch(placed, input, output);
        chain
    }

    /// Rewires the chain to run `wanted`, the toxics of its direction.
    pub(super) async fn update(&mut self, wanted: Vec<Toxic>) {
        let running = self.stages.iter().filter_map(|s| s.toxic.as_ref());
        if self.stages.is_empty() || running.eq(wanted.iter()) {
            return;
        }
        for stage in &self.stages {
            stage.interrupt.cancel();
        }
        let mut stopped = Vec::with_capacity(self.stages.len());
        for stage in self.stages.drain(..) {
            stopped.push(Stopped {
                toxic: stage.toxic,
                acting: stage.acting,
                generation: stage.generation,
                ended: stage.task.await.ok(),
            });
        }
        self.rebuild(stopped, wanted);
    }

    fn rebuild(&mut self, mut stopped: Vec<Stopped>, wanted: Vec<Toxic>) {
        let matched = match_by_name(&stopped, &wanted);
        let source = stopped[0]
            .ended
            .as_mut()
            .map(|(_, stub)| std::mem::replace(&mut stub.input, closed()));
        let carries: Vec<VecDeque<Chunk>> = stopped.iter_mut().map(carry).collect();
        match cut(&stopped, &matched) {
            Some((at, closes)) => {
                if closes {
                    self.wiring.closing.store(true, Ordering::Release);
                }
                self.drain_after(at, stopped, carries);
            }
            None => self.rewire(stopped, matched, carries, wanted, source),
        }
    }

    /// The link is ending at stage `cut`: the tail alone passes on what the
    /// stages after it held, then ends.
    fn drain_after(
        &mut self,
        cut: usize,
        mut stopped: Vec<Stopped>,
        carries: Vec<VecDeque<Chunk>>,
    ) {
        let Some((_, mut tail)) = stopped.pop().and_then(|s| s.ended) else {
            return;
        };
        if cut == stopped.len() {
            return;
        }
        tail.held = carries.into_iter().skip(cut + 1).rev().flatten().collect();
        let output = tail.output.take();
        if let Some(output) = output {
            self.launch(vec![Placed::tail(tail)], closed(), output);
        }
    }

    /// Runs `wanted` in order: the stubs of the toxics that stay, fresh ones
    /// for new toxics, each carrying what it and the removed toxics before
    /// it held.
    fn rewire(
        &mut self,
        stopped: Vec<Stopped>,
        matched: Vec<Option<usize>>,
        carries: Vec<VecDeque<Chunk>>,
        wanted: Vec<Toxic>,
        source: Option<mpsc::Receiver<Chunk>>,
    ) {
        let mut placed: Vec<Option<Placed>> = wanted.iter().map(|_| None).collect();
        let mut tail = None;
        // What the removed stages since the last stage that stays held,
        // newest first: it passes on after what the next stage that stays
        // held, being newer.
        let mut removed: VecDeque<Chunk> = VecDeque::new();
        let targets = matched.into_iter().chain([None]);
        for ((old, to), mut carry) in stopped.into_iter().zip(targets).zip(carries) {
            let Some((_, stub)) = old.ended else { continue };
            match (to, &old.toxic) {
                (Some(j), Some(_)) => {
                    let stage = self.kept(old.toxic, old.acting, old.generation, &wanted[j], stub);
                    placed[j] = Some(stage.carrying(carry, &mut removed));
                }
                (_, None) => tail = Some(Placed::tail(stub).carrying(carry, &mut removed)),
                (None, Some(_)) => {
                    carry.append(&mut removed);
                    removed = carry;
                }
            }
        }
        let mut placed: Vec<Placed> = placed
            .into_iter()
            .zip(wanted)
            .map(|(stage, toxic)| stage.unwrap_or_else(|| self.fresh(toxic)))
            .collect();
        let Some(mut tail) = tail else { return };
        let Some(output) = tail.stub.output.take() else {
            return;
        };
        placed.push(tail);
        self.launch(placed, source.unwrap_or_else(closed), output);
    }

    /// A stage that stays, updated to `toxic` if that changed.
    fn kept(
        &self,
        old: Option<Toxic>,
        acting: bool,
        generation: u64,
        toxic: &Toxic,
        mut stub: Stub,
    ) -> Placed {
        if old.as_ref() == Some(toxic) {
            return Placed {
                toxic: Some(toxic.clone()),
                acting,
                generation,
                stub,
            };
        }
        let generation = generation + 1;
        if !acting {
            // What passed while the toxic did not act is not its own count.
            stub.passed = 0;
        }
        stub.rng = self.wiring.key(&toxic.name, generation).rng();
        stub.since = Instant::now();
        let acting = draw::acts(&mut stub.rng, toxic.toxicity);
        Placed {
            toxic: Some(toxic.clone()),
            acting,
            generation,
            stub,
        }
    }

    /// A stage for a toxic new on this link.
    fn fresh(&self, toxic: Toxic) -> Placed {
        let mut rng = self.wiring.key(&toxic.name, 0).rng();
        let acting = draw::acts(&mut rng, toxic.toxicity);
        Placed {
            toxic: Some(toxic),
            acting,
            generation: 0,
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
            stage.stub.output = Some(if i == last {
                output.clone()
            } else {
                next_sender
            });
            self.stages.push(stage.spawn(&self.wiring.stop));
        }
    }
}

/// A stage about to start.
struct Placed {
    toxic: Option<Toxic>,
    acting: bool,
    generation: u64,
    stub: Stub,
}

impl Placed {
    fn tail(stub: Stub) -> Placed {
        Placed {
            toxic: None,
            acting: false,
            generation: 0,
            stub,
        }
    }

    /// Holds `own` first, then what the removed stages just before it held.
    fn carrying(mut self, own: VecDeque<Chunk>, removed_before: &mut VecDeque<Chunk>) -> Placed {
        self.stub.held = own;
        self.stub.held.append(removed_before);
        self
    }

    fn spawn(mut self, stop: &CancellationToken) -> Stage {
        let interrupt = stop.child_token();
        self.stub.interrupt = interrupt.clone();
        let leaf = match &self.toxic {
            Some(toxic) if self.acting => Leaf::of(&toxic.kind),
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
            toxic: self.toxic,
            acting: self.acting,
            generation: self.generation,
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

    fn stub(&self, rng: rand_chacha::ChaCha8Rng) -> Stub {
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

/// For each old stage but the tail, the index in `wanted` of the toxic it
/// becomes, or `None` if it is removed. The toxics that stay keep their
/// order and new ones come after them, so a greedy walk finds them.
fn match_by_name(stopped: &[Stopped], wanted: &[Toxic]) -> Vec<Option<usize>> {
    let mut next = 0;
    stopped
        .iter()
        .filter_map(|s| s.toxic.as_ref())
        .map(|toxic| {
            let stays = wanted.get(next).is_some_and(|w| w.name == toxic.name);
            next += usize::from(stays);
            stays.then(|| next - 1)
        })
        .collect()
}

/// The last stage past which nothing more can pass, and whether the link
/// closes there: a stage that ended (closing it if its toxic did), or a
/// removed toxic whose removal closes the link.
fn cut(stopped: &[Stopped], matched: &[Option<usize>]) -> Option<(usize, bool)> {
    (0..stopped.len()).rev().find_map(|i| {
        let stage = &stopped[i];
        let removed = matched.get(i) == Some(&None);
        let removal = stage.toxic.as_ref().map(|t| Leaf::of(&t.kind).on_removal());
        if removed && stage.acting && removal == Some(Removal::CloseLink) {
            return Some((i, true));
        }
        match stage.ended {
            Some((Stop::Interrupted, _)) => None,
            _ => Some((i, false)),
        }
    })
}

/// What a stopped stage had not passed on, oldest first: its held chunks,
/// then those waiting in its input.
fn carry(stopped: &mut Stopped) -> VecDeque<Chunk> {
    let Some((_, stub)) = stopped.ended.as_mut() else {
        return VecDeque::new();
    };
    let mut carry = std::mem::take(&mut stub.held);
    while let Ok(chunk) = stub.input.try_recv() {
        carry.push_back(chunk);
    }
    carry
}

/// An input that has ended.
fn closed() -> mpsc::Receiver<Chunk> {
    mpsc::channel(1).1
}

/// The tail's generator: it draws nothing.
fn unused_rng() -> rand_chacha::ChaCha8Rng {
    rand_chacha::rand_core::SeedableRng::seed_from_u64(0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::toxic::ToxicKind;

    struct Rig {
        chain: Chain,
        feed: mpsc::Sender<Chunk>,
        out: mpsc::Receiver<Chunk>,
        closing: Arc<AtomicBool>,
    }

    fn rig(toxics: Vec<Toxic>) -> Rig {
        let closing = Arc::new(AtomicBool::new(false));
        let wiring = Wiring {
            seed: 0,
            connection: 0,
            direction: Direction::Downstream,
            peers: Peers::default(),
            closing: closing.clone(),
            stop: CancellationToken::new(),
        };
        let (feed, input) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let (output, out) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let chain = Chain::start(wiring, toxics, input, output);
        Rig {
            chain,
            feed,
            out,
            closing,
        }
    }

    fn toxic(name: &str, kind: ToxicKind) -> Toxic {
        Toxic::new(kind, Direction::Downstream).named(name)
    }

    fn lag(ms: i64) -> ToxicKind {
        ToxicKind::Latency {
            latency: ms,
            jitter: 0,
        }
    }

    /// Everything the chain passes until it ends.
    async fn drain(out: &mut mpsc::Receiver<Chunk>) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = out.recv().await {
            all.extend_from_slice(&chunk.data);
        }
        all
    }

    #[tokio::test(start_paused = true)]
    async fn changes_midstream_lose_and_reorder_nothing() {
        let mut rig = rig(vec![toxic("lag", lag(100))]);
        let slicer = ToxicKind::Slicer {
            average_size: 7,
            size_variation: 3,
            delay: 500,
        };
        let bandwidth = ToxicKind::Bandwidth { rate: 50 };
        let steps: Vec<Vec<Toxic>> = vec![
            vec![toxic("lag", lag(100)), toxic("slices", slicer.clone())],
            vec![
                toxic("slices", slicer.clone()),
                toxic("narrow", bandwidth.clone()),
            ],
            vec![toxic("narrow", bandwidth), toxic("lag", lag(30))],
            vec![toxic("lag", lag(60))],
            vec![],
            vec![toxic("slices", slicer), toxic("lag", lag(10))],
        ];
        let mut sent = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            for j in 0..40u32 {
                let data = format!("<{i}:{j}>").into_bytes();
                sent.extend_from_slice(&data);
                rig.feed.send(Chunk::new(Bytes::from(data))).await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            rig.chain.update(step).await;
        }
        drop(rig.feed);
        assert_eq!(
            String::from_utf8(drain(&mut rig.out).await).unwrap(),
            String::from_utf8(sent).unwrap()
        );
        assert!(!rig.closing.load(Ordering::Acquire));
    }

    #[tokio::test(start_paused = true)]
    async fn removing_a_timeout_closes_the_link_and_what_it_swallowed_stays_lost() {
        let timeout = toxic("cut", ToxicKind::Timeout { timeout: 0 });
        let mut rig = rig(vec![toxic("lag", lag(100)), timeout.clone()]);
        rig.feed.send(Chunk::new("swallowed")).await.unwrap();
        rig.chain.update(vec![toxic("lag", lag(100))]).await;
        assert_eq!(drain(&mut rig.out).await, b"");
        assert!(rig.closing.load(Ordering::Acquire));
    }

    #[tokio::test(start_paused = true)]
    async fn a_toxic_of_toxicity_zero_passes_everything_and_its_removal_closes_nothing() {
        let timeout = toxic("cut", ToxicKind::Timeout { timeout: 10 }).toxicity(0.0);
        let mut rig = rig(vec![timeout]);
        rig.feed.send(Chunk::new("kept")).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        rig.chain.update(vec![]).await;
        drop(rig.feed);
        assert_eq!(drain(&mut rig.out).await, b"kept");
        assert!(!rig.closing.load(Ordering::Acquire));
    }

    #[tokio::test(start_paused = true)]
    async fn an_update_keeps_the_bytes_a_limit_counted() {
        let limit = |bytes| toxic("limit", ToxicKind::LimitData { bytes });
        let mut rig = rig(vec![limit(6)]);
        rig.feed.send(Chunk::new("abcd")).await.unwrap();
        assert_eq!(rig.out.recv().await.unwrap().data, "abcd");
        rig.chain.update(vec![limit(5)]).await;
        rig.feed.send(Chunk::new("efgh")).await.unwrap();
        assert_eq!(drain(&mut rig.out).await, b"e");
        assert!(rig.closing.load(Ordering::Acquire));
    }

    #[tokio::test(start_paused = true)]
    async fn an_update_from_toxicity_zero_to_one_makes_the_toxic_act() {
        let limit = |toxicity| toxic("limit", ToxicKind::LimitData { bytes: 2 }).toxicity(toxicity);
        let mut rig = rig(vec![limit(0.0)]);
        rig.feed.send(Chunk::new("abcd")).await.unwrap();
        assert_eq!(rig.out.recv().await.unwrap().data, "abcd");
        rig.chain.update(vec![limit(1.0)]).await;
        rig.feed.send(Chunk::new("efgh")).await.unwrap();
        assert_eq!(drain(&mut rig.out).await, b"ef");
    }
}
