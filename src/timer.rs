//! Waits that end on time: within a fraction of a millisecond of their
//! deadline, and never before it.
//!
//! tokio's timer fires on 1 ms ticks and rounds every deadline up to the next
//! one, so a 100 ms sleep lasts 100 to 102 ms, and longer when many timers
//! fire at once. [`sleep_until`] sleeps on tokio's timer until [`MARGIN`]
//! before the deadline, then on a Linux `timerfd` registered with tokio's
//! reactor, which the kernel fires within microseconds. Only the waits in
//! their last margin hold a file descriptor, so a thousand concurrent waits
//! do not hold a thousand for long.
//!
//! On a paused clock (tokio's `test-util`) a wait is tokio's own, so virtual
//! time stays exact. Off Linux, or when no `timerfd` can be made (the
//! open-file limit is reached), the last margin is tokio's sleep too: late by
//! a tick, never early.

use std::time::Duration;

use tokio::time::Instant;

/// How long before its deadline a wait leaves tokio's timer for the precise
/// one: tokio's tick (1 ms) plus room for a late wake-up.
const MARGIN: Duration = Duration::from_millis(2);

/// How long real time runs while [`clock_is_paused`] watches tokio's clock.
const PROBE: Duration = Duration::from_micros(2);

/// Waits `duration`, on time.
pub(crate) async fn sleep(duration: Duration) {
    match Instant::now().checked_add(duration) {
        Some(deadline) => sleep_until(deadline).await,
        // Past the clock's range: tokio's sleep caps it at its far future.
        None => tokio::time::sleep(duration).await,
    }
}

/// Waits until `deadline` on tokio's clock, on time.
pub(crate) async fn sleep_until(deadline: Instant) {
    if clock_is_paused() {
        return tokio::time::sleep_until(deadline).await;
    }
    if let Some(coarse) = deadline.checked_sub(MARGIN) {
        // A deadline within the current tick would wait for the next one.
        if coarse > Instant::now() {
            tokio::time::sleep_until(coarse).await;
        }
    }
    // tokio's clock is read first: the real deadline can only come out later.
    let left = deadline.saturating_duration_since(Instant::now());
    let real_deadline = std::time::Instant::now() + left;
    if precise::sleep_until(real_deadline).await.is_err() {
        tokio::time::sleep_until(deadline).await;
    }
}

/// True when tokio's clock stands still while real time runs: it is paused
/// (`tokio::time::pause`, `start_paused`), and time is virtual. A running
/// clock moves with every reading, so this costs two readings in real time.
fn clock_is_paused() -> bool {
    let before = Instant::now();
    let real = std::time::Instant::now();
    loop {
        if Instant::now() != before {
            return false;
        }
        if real.elapsed() > PROBE {
            return Instant::now() == before;
        }
        std::hint::spin_loop();
    }
}

#[cfg(target_os = "linux")]
mod precise {
    //! The last margin of a wait, on a `timerfd`.

    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    /// Waits until `deadline`; `Err` when no timer could be made or armed,
    /// and the caller waits another way. Dropping the future closes the
    /// timer.
    pub(super) async fn sleep_until(deadline: Instant) -> io::Result<()> {
        let mut timer = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            let timer = match &mut timer {
                Some(timer) => timer,
                None => timer.insert(register(create()?)?),
            };
            // Armed after `left` was measured, so it cannot fire early;
            // re-arming also clears the count of earlier expirations.
            arm(timer.get_ref(), left)?;
            timer.readable().await?.clear_ready();
        }
    }

    /// A new, disarmed, non-blocking timer on the monotonic clock, which is
    /// the clock of `std::time::Instant` on Linux.
    fn create() -> io::Result<OwnedFd> {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        // SAFETY: takes no pointers; returns a new descriptor or -1.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Registers `timer` with tokio's reactor, for reading.
    // `AsyncFd::with_interest` is deprecated in favour of an `unsafe`
    // `register_with_interest` from tokio 1.51.6 on, newer than the tokio
    // this crate supports. The concern behind it, a descriptor closed while
    // registered, cannot arise here: the `AsyncFd` owns the `OwnedFd`.
    #[allow(deprecated)]
    fn register(timer: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
        AsyncFd::with_interest(timer, Interest::READABLE)
    }

    /// Arms `timer` to fire once, `after` from now.
    fn arm(timer: &OwnedFd, after: Duration) -> io::Result<()> {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let spec = libc::itimerspec {
            it_interval: zero,
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        // SAFETY: `spec` is a valid `itimerspec` that outlives the call, and
        // a null old value is allowed; `timer` is an open timerfd.
        let set =
            unsafe { libc::timerfd_settime(timer.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if set < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod precise {
    //! No precise timer: the last margin is tokio's.

    use std::io;
    use std::time::Instant;

    /// Always `Err`: the caller waits on tokio's timer.
    pub(super) async fn sleep_until(_deadline: Instant) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn on_a_paused_clock_a_sleep_advances_virtual_time_exactly_and_costs_no_real_time() {
        let real = std::time::Instant::now();
        let start = Instant::now();
        sleep(Duration::from_millis(100)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        sleep_until(start + Duration::from_secs(3600)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
        assert!(
            real.elapsed() < Duration::from_secs(60),
            "{:?}",
            real.elapsed()
        );
    }

    #[tokio::test]
    async fn a_running_clock_is_not_taken_for_a_paused_one() {
        assert!(!clock_is_paused());
        tokio::time::pause();
        assert!(clock_is_paused());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sleeps_never_end_before_their_deadline() {
        let mut waits = tokio::task::JoinSet::new();
        for i in 0..200u64 {
            waits.spawn(async move {
                let mut early = Vec::new();
                for j in 0..5 {
                    let wait = Duration::from_micros(1_000 + (i * 37 + j * 911) % 5_000);
                    let start = std::time::Instant::now();
                    sleep(wait).await;
                    let took = start.elapsed();
                    if took < wait {
                        early.push((wait, took));
                    }
                }
                early
            });
        }
        let early: Vec<_> = waits.join_all().await.into_iter().flatten().collect();
        assert!(early.is_empty(), "ended early (wanted, took): {early:?}");
    }

    #[tokio::test]
    async fn a_deadline_already_past_returns_at_once_in_real_time() {
        let past = Instant::now();
        tokio::time::timeout(Duration::from_secs(10), sleep_until(past))
            .await
            .expect("a past deadline returns");
        assert!(Instant::now() >= past);
    }

    /// The timers this process has open that are armed for more than 1,000
    /// seconds: only this module's tests arm such timers, so the count is
    /// not moved by the short waits of tests running in parallel.
    #[cfg(target_os = "linux")]
    fn long_timers() -> usize {
        let Ok(fds) = std::fs::read_dir("/proc/self/fdinfo") else {
            return 0;
        };
        fds.flatten()
            .filter_map(|fd| std::fs::read_to_string(fd.path()).ok())
            .filter(|info| {
                info.lines()
                    .find_map(|line| line.strip_prefix("it_value: ("))
                    .and_then(|value| value.split(',').next()?.trim().parse::<u64>().ok())
                    .is_some_and(|seconds| seconds > 1_000)
            })
            .count()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_wait_dropped_in_its_last_margin_closes_its_timer() {
        use std::future::Future;
        use std::task::Poll;
        const WAITS: usize = 50;
        let hour = || std::time::Instant::now() + Duration::from_secs(3600);
        let mut waits: Vec<_> = (0..WAITS)
            .map(|_| Box::pin(precise::sleep_until(hour())))
            .collect();
        for wait in &mut waits {
            let polled = std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
            assert!(polled.is_pending(), "an hour's wait ended: {polled:?}");
        }
        assert_eq!(long_timers(), WAITS);
        drop(waits);
        assert_eq!(long_timers(), 0);
    }
}
