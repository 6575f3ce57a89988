//! Rewiring a chain whose toxics changed.
//!
//! Every stage has been interrupted. Each handed back its stub with what it
//! had not passed on; what waits in the channel before each stage is
//! drained after that, so each stage's carry is in order, and the carries,
//! from the tail back, are in the order the bytes arrived. The new chain
//! reuses the stubs of the toxics that stay (their state on this connection
//! stays too) and gives what a removed toxic carried to the next stage that
//! stays, or to the tail, after that stage's own. New toxics join at the
//! end, before the tail, as in Toxiproxy.
//!
//! If a stage had ended, or a removed toxic closes the link on removal
//! (`timeout`), nothing more passes that point: the tail alone passes on
//! what the stages after it carried, then ends.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use crate::proxy::chain::{Chain, Placed, Role, closed};
use crate::toxic::Toxic;
use crate::toxic::leaf::{Leaf, Removal};
use crate::toxic::stub::{Chunk, Stop, Stub};

/// A stage once interrupted.
pub(super) struct Stopped {
    /// What it ran.
    pub(super) role: Role,
    /// Why it stopped, and its stub; `None` if its task was lost.
    pub(super) ended: Option<(Stop, Stub)>,
}

impl Chain {
    /// Starts the chain of `wanted` from the stages `stopped`.
    pub(super) fn rebuild(&mut self, mut stopped: Vec<Stopped>, wanted: Vec<Toxic>) {
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

    /// Nothing passes stage `cut` any more: the tail alone passes on what
    /// the stages after it carried, then ends.
    fn drain_after(
        &mut self,
        cut: usize,
        mut stopped: Vec<Stopped>,
        carries: Vec<VecDeque<Chunk>>,
    ) {
        self.ending = true;
        let Some((_, mut tail)) = stopped.pop().and_then(|s| s.ended) else {
            return;
        };
        // The tail itself ended: the link's end is already on its way.
        if cut == stopped.len() {
            return;
        }
        tail.held = carries.into_iter().skip(cut + 1).rev().flatten().collect();
        if let Some(output) = tail.output.take() {
            self.launch(vec![Placed::tail(tail)], closed(), output);
        }
    }

    /// Runs `wanted` in order from `source`: the stubs of the toxics that
    /// stay, fresh ones for new toxics, each with its carry.
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
        // What the removed stages since the last one that stays carried,
        // newest first: it passes on after the next stage that stays has
        // passed on its own, which is older.
        let mut removed = VecDeque::new();
        let targets = matched.into_iter().chain([None]);
        for ((old, to), mut carry) in stopped.into_iter().zip(targets).zip(carries) {
            let Some((_, stub)) = old.ended else { continue };
            match (to, old.role.toxic.is_some()) {
                (Some(j), true) => {
                    let stage = self.kept(old.role, &wanted[j], stub);
                    placed[j] = Some(stage.carrying(carry, &mut removed));
                }
                (_, false) => tail = Some(Placed::tail(stub).carrying(carry, &mut removed)),
                (None, true) => {
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
}

/// For each old stage but the tail, the index in `wanted` of the toxic it
/// becomes, or `None` if it is removed. The toxics that stay keep their
/// order and new ones come after them, so a greedy walk finds them.
fn match_by_name(stopped: &[Stopped], wanted: &[Toxic]) -> Vec<Option<usize>> {
    let mut next = 0;
    stopped
        .iter()
        .filter_map(|s| s.role.toxic.as_ref())
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
        let role = &stopped[i].role;
        let removed = matched.get(i) == Some(&None);
        let removal = role.toxic.as_ref().map(|t| Leaf::of(&t.kind).on_removal());
        if removed && role.acting && removal == Some(Removal::CloseLink) {
            return Some((i, true));
        }
        match stopped[i].ended {
            Some((Stop::Interrupted, _)) => None,
            _ => Some((i, false)),
        }
    })
}

/// What a stopped stage had not passed on, oldest first: what it held,
/// then what waits in its input.
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use bytes::Bytes;

    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::proxy::chain::{CHUNKS_IN_FLIGHT, Wiring};
    use crate::toxic::stub::Peers;
    use crate::toxic::{Direction, ToxicKind};

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
