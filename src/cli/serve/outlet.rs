//! `Outlet`: lines written by a thread of their own, so that a slow or absent
//! reader never blocks the server.
//!
//! The server's tasks hand each line over with `send`, which never waits: a
//! line that finds the queue full is dropped and counted. On stderr the count
//! is told in the stream itself, before the next line that gets through.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lines an outlet holds for its writer at most; at most about 5 MiB, as a
/// journaled request head is at most 4 KiB.
pub(crate) const QUEUE_LINES: usize = 1024;

/// How often an idle writer looks whether it should stop.
const TICK: Duration = Duration::from_millis(50);

/// A queue of lines and the thread that writes them out.
#[derive(Clone)]
pub(crate) struct Outlet {
    shared: Arc<Shared>,
}

struct Shared {
    queue: SyncSender<String>,
    /// Lines dropped because the queue was full.
    dropped: AtomicU64,
    /// Lines lost because writing them failed, and the first such error.
    failed: AtomicU64,
    error: Mutex<Option<String>>,
    /// Set when no more lines will come: the writer stops once the queue is empty.
    closing: AtomicBool,
    /// Signalled by the writer when it has written everything and stopped.
    done: Mutex<Option<Receiver<()>>>,
}

impl Outlet {
    /// Starts a writer thread for `out`. On `stderr`, dropped lines are
    /// counted in the stream.
    pub(crate) fn start(name: &'static str, out: impl Write + Send + 'static) -> Outlet {
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let (finished, done) = mpsc::channel();
        let shared = Arc::new(Shared {
            queue,
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            error: Mutex::new(None),
            closing: AtomicBool::new(false),
            done: Mutex::new(Some(done)),
        });
        let writer = Writer {
            out,
            notice: name == "stderr",
            told: 0,
            unflushed: 0,
            shared: shared.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("outage-{name}"))
            .spawn(move || {
                writer.run(lines);
                let _ = finished.send(());
            });
        if spawned.is_err() {
            // Without a writer every line is dropped and counted, and the
            // server goes on.
            shared.closing.store(true, Ordering::Relaxed);
        }
        Outlet { shared }
    }

    /// Queues `line` without waiting; drops and counts it if the queue is full.
    pub(crate) fn send(&self, line: String) {
        match self.shared.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Sends panic messages through this outlet instead of blocking on stderr.
    pub(crate) fn on_panic(&self) {
        let outlet = self.clone();
        std::panic::set_hook(Box::new(move |info| {
            outlet.send(format!("outage: a task {info}\n"));
        }));
    }

    /// Stops taking lines, waits up to `grace` for the queued ones to be
    /// written, and says how many were dropped or failed to be written.
    pub(crate) fn close(&self, grace: Duration) -> Closed {
        self.shared.closing.store(true, Ordering::Relaxed);
        let done = self
            .shared
            .done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(done) = done {
            let _ = done.recv_timeout(grace);
        }
        Closed {
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
            error: self
                .shared
                .error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// What became of an outlet's lines.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Closed {
    /// Lines dropped because the queue was full.
    pub(crate) dropped: u64,
    /// Lines lost because writing them failed.
    pub(crate) failed: u64,
    /// The first write error, when one happened.
    pub(crate) error: Option<String>,
}

/// The writer thread's side.
struct Writer<W> {
    out: W,
    /// True when dropped lines are told in the stream itself.
    notice: bool,
    /// Dropped lines told so far.
    told: u64,
    /// Lines written since the last flush that succeeded.
    unflushed: u64,
    shared: Arc<Shared>,
}

impl<W: Write> Writer<W> {
    fn run(mut self, lines: Receiver<String>) {
        loop {
            let line = match lines.recv_timeout(TICK) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) if self.shared.closing.load(Ordering::Relaxed) => {
                    break;
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            self.write(&line);
            while let Ok(line) = lines.try_recv() {
                self.write(&line);
            }
            self.flush();
        }
        self.tell_dropped();
        self.flush();
    }

    /// Writes one line, after saying how many were dropped since last told.
    fn write(&mut self, line: &str) {
        self.tell_dropped();
        match self.out.write_all(line.as_bytes()) {
            Ok(()) => self.unflushed += 1,
            Err(error) => self.failed(1, &error),
        }
    }

    /// Flushes; the lines since the last flush are lost if it fails.
    fn flush(&mut self) {
        if let Err(error) = self.out.flush() {
            self.failed(self.unflushed, &error);
        }
        self.unflushed = 0;
    }

    /// Counts `lines` lost to `error`, keeping the first error.
    fn failed(&mut self, lines: u64, error: &std::io::Error) {
        self.shared.failed.fetch_add(lines, Ordering::Relaxed);
        let mut first = self.shared.error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert_with(|| error.to_string());
    }

    fn tell_dropped(&mut self) {
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if self.notice && dropped > self.told {
            let _ = writeln!(
                self.out,
                "outage: {} lines dropped: stderr was not read as fast as attempts ended",
                dropped - self.told
            );
            self.told = dropped;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_cannot_be_written_are_counted_with_the_first_error() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let outlet = Outlet::start("journal", std::io::BufWriter::new(full));
        for i in 0..10 {
            outlet.send(format!("line {i}\n"));
        }
        let closed = outlet.close(Duration::from_secs(5));
        assert_eq!(closed.dropped, 0);
        assert_eq!(closed.failed, 10);
        assert_eq!(
            closed.error.as_deref(),
            Some("No space left on device (os error 28)")
        );
    }

    /// A writer that blocks until told to go on, like a pipe nobody reads.
    struct Stuck(Arc<Mutex<Vec<u8>>>, Arc<AtomicBool>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            while !self.1.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_reader_loses_lines_but_never_blocks_the_sender() {
        let (written, go) = (Arc::default(), Arc::new(AtomicBool::new(false)));
        let outlet = Outlet::start("stderr", Stuck(Arc::clone(&written), go.clone()));
        let start = std::time::Instant::now();
        for i in 0..QUEUE_LINES * 3 {
            outlet.send(format!("line {i}\n"));
        }
        // A stuck reader would block a sender forever; any bound shows it does not.
        assert!(start.elapsed() < Duration::from_secs(10));
        go.store(true, Ordering::Relaxed);
        let dropped = outlet.close(Duration::from_secs(5)).dropped;
        assert!(dropped >= QUEUE_LINES as u64, "{dropped}");
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        // The drops are told as they are found: once, or in parts when the
        // writer took its first line while the sender was still dropping.
        let told: u64 = text
            .lines()
            .filter_map(|line| {
                line.strip_prefix("outage: ")?
                    .strip_suffix(" lines dropped: stderr was not read as fast as attempts ended")?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        assert_eq!(told, dropped, "{:?}", &text[..200]);
        let lines = text.lines().filter(|l| l.starts_with("line ")).count();
        assert_eq!(lines as u64 + dropped, 3 * QUEUE_LINES as u64);
    }
}
