//! A fault from fuzz input: the fault's kind, then one pick per parameter
//! from a pool of values for it, in range and far out of it.

use toml::{Table, Value};

use crate::fault;
use crate::fault::{Fault, parameters};

/// How deep faults nest (a sequence of chances of routes ...).
const DEPTH: usize = 2;

/// The parameter picks of one input, taken in order; 0 once they run out.
pub(super) struct Picks<'a>(pub(super) std::slice::Iter<'a, u8>);

impl Picks<'_> {
    pub(super) fn next(&mut self) -> usize {
        self.0.next().map_or(0, |pick| usize::from(*pick))
    }

    /// A value from `pool`, or `None` (the default) for pick 0.
    pub(super) fn from<T: Clone>(&mut self, pool: &[T]) -> Option<T> {
        match self.next() {
            0 => None,
            pick => pool.get((pick - 1) % pool.len()).cloned(),
        }
    }
}

/// Fault number `kind`, its parameters picked, when it loads and validates;
/// `None` when it is refused, which must come with a reason.
pub(super) fn valid_fault(kind: u8, picks: &mut Picks) -> Option<Fault> {
    let fault: Fault = match Value::Table(fault_table(kind, picks)).try_into() {
        Ok(fault) => fault,
        Err(error) => {
            assert!(!error.message().is_empty(), "refused without a reason");
            return None;
        }
    };
    if let Err(invalid) = fault.validate() {
        assert!(
            !invalid.reason.is_empty(),
            "{} refused without a reason",
            fault.name()
        );
        return None;
    }
    Some(fault)
}

/// The TOML table of fault number `kind`, its parameters picked.
fn fault_table(kind: u8, picks: &mut Picks) -> Table {
    table_at(kind, picks, DEPTH)
}

fn table_at(kind: u8, picks: &mut Picks, depth: usize) -> Table {
    let names = fault::names();
    let name = names[usize::from(kind) % names.len()];
    let mut table = Table::new();
    table.insert("kind".into(), Value::String(name.into()));
    for &key in parameters(name).unwrap_or_default() {
        if let Some(value) = value_for(key, picks, depth) {
            table.insert(key.to_owned(), value);
        }
    }
    table
}

/// A value for parameter `key`, from the pool that suits it.
fn value_for(key: &str, picks: &mut Picks, depth: usize) -> Option<Value> {
    let nested = |picks: &mut Picks| {
        let kind = picks.next() as u8;
        Value::Table(table_at(kind, picks, depth.saturating_sub(1)))
    };
    match key {
        "steps" | "routes" | "fault" | "otherwise" | "fallback" if depth == 0 => None,
        "steps" => {
            let len = picks.next() % 4;
            Some(Value::Array((0..len).map(|_| nested(picks)).collect()))
        }
        "routes" => {
            let len = picks.next() % 4;
            let route = |picks: &mut Picks| {
                let mut route = Table::new();
                let path = picks.from(PATHS).unwrap_or("/");
                route.insert("path".into(), Value::String(path.into()));
                route.insert("fault".into(), nested(picks));
                Value::Table(route)
            };
            Some(Value::Array((0..len).map(|_| route(picks)).collect()))
        }
        "fault" | "otherwise" | "fallback" => (picks.next() % 2 == 1).then(|| nested(picks)),
        "code" => {
            // HTTP status codes and HTTP/2 error codes, by number and by name.
            let named = |name: &str| Value::String(name.into());
            let pick = picks.next() % (CODES.len() + HTTP2_CODES.len());
            Some(match CODES.get(pick) {
                Some(code) => Value::Integer(*code),
                None => named(HTTP2_CODES[pick - CODES.len()]),
            })
        }
        "final-code" => picks.from(CODES).map(Value::Integer),
        "close" => picks.from(CLOSES).map(|c| Value::String(c.into())),
        "withhold" => picks.from(WITHHOLDS).map(|w| Value::String(w.into())),
        "frame" => picks.from(FRAMES).map(|f| Value::String(f.into())),
        "delay" | "interval" | "retry-after" | "retry-after-date" | "hold" => {
            picks.from(DURATIONS).map(|d| Value::String(d.into()))
        }
        "probability" => picks.from(PROBABILITIES).map(Value::Float),
        "body" | "final-body" | "line" | "encoding" => {
            picks.from(TEXTS).map(|t| Value::String(t.into()))
        }
        "headers" => picks.from(HEADERS).map(|(name, value)| {
            Value::Table(Table::from_iter([(
                name.into(),
                Value::String(value.into()),
            )]))
        }),
        "when" => picks.from(WHENS).map(|w| Value::String(w.into())),
        // Sizes, rates, hops and seeds: every size parameter is a whole number.
        _ => picks.from(NUMBERS).map(Value::Integer),
    }
}

/// Whole numbers in range, at the edges of the ranges, and far past them.
const NUMBERS: &[i64] = &[
    0,
    1,
    2,
    16,
    255,
    1024,
    65_536,
    1 << 20,
    10_000_000,
    1_000_000_000_000,
    1_000_000_000_000_000,
    1_000_000_000_000_001,
    u32::MAX as i64,
    u32::MAX as i64 + 1,
    i64::MAX,
    -1,
    i64::MIN,
];

/// Status codes a response can have, and ones it cannot.
const CODES: &[i64] = &[
    -1, 0, 99, 100, 101, 199, 200, 204, 301, 302, 303, 304, 307, 308, 418, 429, 500, 503, 599, 999,
    1000, 65_535, 65_536,
];

/// Waits from nothing to past any clock's range, and text that is no wait.
const DURATIONS: &[&str] = &[
    "0s",
    "1ms",
    "20ms",
    "1s",
    "1h",
    "10y",
    "11y",
    "1000000000y",
    "500000000000y",
    "600000000000y",
    "1",
    "",
];

const PROBABILITIES: &[f64] = &[0.0, 0.5, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY];

const TEXTS: &[&str] = &[
    "",
    "ok\n",
    "zz",
    "7",
    "\r\n",
    "a\r\nb: c",
    "gzip",
    "\u{0}",
    "é",
];

const HEADERS: &[(&str, &str)] = &[
    ("Retry-After", "2"),
    ("X-Id", "7"),
    ("Bad Name", "v"),
    ("X-Crlf", "a\r\nb"),
    ("", ""),
    ("Content-Length", "99"),
];

const WHENS: &[&str] = &[
    "after-request",
    "on-accept",
    "after-body-bytes",
    "never",
    "after-upstream",
    "before-response",
    "after-headers",
];

/// HTTP/2 error codes by name, and names that are none.
const HTTP2_CODES: &[&str] = &[
    "no-error",
    "refused-stream",
    "internal-error",
    "http-1-1-required",
    "0x1f",
    "0xffffffff",
    "0x100000000",
    "refused",
    "",
];

const CLOSES: &[&str] = &["graceful", "immediate", "later"];

const WITHHOLDS: &[&str] = &["settings", "ack", "everything"];

const FRAMES: &[&str] = &[
    "wrong-length",
    "oversized",
    "data-on-stream-zero",
    "garbage",
];

/// Paths of routes and requests: httpbin's routes at and past their limits.
pub(super) const PATHS: &[&str] = &[
    "/",
    "/api/*",
    "/get",
    "/headers",
    "/gzip",
    "/stream/100",
    "/stream/18446744073709551616",
    "/bytes/102400",
    "/bytes/18446744073709551615?seed=1",
    "/drip?numbytes=3&duration=0",
    "/drip?numbytes=1&duration=1e300",
    "/drip?numbytes=2&duration=1e300&delay=0",
    "/drip?numbytes=18446744073709551615&duration=0.000001",
    "/delay/0.01",
    "/delay/1e300",
    "/status/200:0,500:0",
    "/status/200:1e308,500:1e308",
    "/redirect/4294967296",
    "/absolute-redirect/1",
    "/?outage-hop=4294967295",
];
