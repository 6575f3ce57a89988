//! Checks that types alone cannot make: durations that are zero or longer
//! than any scenario runs, ranges written upside down, `tls = true` where TLS
//! cannot apply, and `{ca}` where there is no CA. Each error points at the
//! key it is about and quotes the value as it was written.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::duration;
use crate::fault::Fault;
use crate::scenario::error::Errors;
use crate::schedule::Gaps;

type Value<'i> = Spanned<DeValue<'i>>;

/// The longest a scenario may run, and so the longest duration any of its keys may give.
pub const MAX_DURATION: Duration = Duration::from_secs(60 * 60);
const MAX_WRITTEN: &str = "1h";

/// A duration as the file writes it.
struct Written<'a> {
    text: &'a str,
    span: Range<usize>,
    duration: Duration,
}

/// Key `key` of table `value`, when it is there and is a valid duration.
fn written<'a>(value: &'a Value, key: &str) -> Option<Written<'a>> {
    let entry = value.get_ref().as_table()?.get(key)?;
    let text = entry.get_ref().as_str()?;
    let duration = duration::parse(text).ok()?;
    Some(Written {
        text,
        span: entry.span(),
        duration,
    })
}

/// A duration longer than any scenario runs, which can only be a mistake.
fn too_long(errors: &mut Errors, key: &str, text: &str, span: Range<usize>, d: Duration) -> bool {
    if d > MAX_DURATION {
        errors.at(
            span,
            format!(
                "{key} {text:?} is longer than any scenario may run; give at most {MAX_WRITTEN:?}"
            ),
        );
    }
    d <= MAX_DURATION
}

/// Key `key` of table `what`, for messages: `duration max`, or `read-timeout` alone.
fn named(what: &str, key: &str) -> String {
    match what {
        "" => key.to_owned(),
        what => format!("{what} {key}"),
    }
}

/// Each of `keys` in table `value` (named `what`) is at most [`MAX_DURATION`].
fn not_too_long(errors: &mut Errors, value: &Value, what: &str, keys: &[&str]) -> bool {
    keys.iter().fold(true, |ok, key| match written(value, key) {
        Some(w) => too_long(errors, &named(what, key), w.text, w.span, w.duration) && ok,
        None => ok,
    })
}

/// Key `key` of table `value` (named `what`) is not zero; `zero` says what a
/// zero would do, `instead` what to write.
fn not_zero(
    errors: &mut Errors,
    value: &Value,
    [what, key]: [&str; 2],
    zero: &str,
    instead: &str,
) -> bool {
    match written(value, key) {
        Some(w) if w.duration.is_zero() => {
            let key = named(what, key);
            errors.at(w.span, format!("{key} {:?} {zero}; {instead}", w.text));
            false
        }
        _ => true,
    }
}

/// The client's `timeout` (`value`, read as `d`): more than zero, at most
/// [`MAX_DURATION`].
pub(crate) fn deadline(errors: &mut Errors, value: &Value, d: Duration) -> bool {
    let text = value.get_ref().as_str().unwrap_or_default();
    if d.is_zero() {
        errors.at(
            value.span(),
            format!(
                "timeout {text:?} kills the client before it starts; give the time it may run, such as \"10s\""
            ),
        );
        return false;
    }
    too_long(errors, "timeout", text, value.span(), d)
}

/// The built-in client's settings (`value`): no zero timeout, no duration
/// longer than a scenario runs, a retry's `backoff` no longer than its `max-backoff`.
pub(crate) fn reqwest(errors: &mut Errors, value: &Value) -> bool {
    const TIMEOUTS: [&str; 3] = ["connect-timeout", "read-timeout", "total-timeout"];
    let mut ok = not_too_long(errors, value, "", &TIMEOUTS);
    for key in TIMEOUTS {
        ok &= not_zero(
            errors,
            value,
            ["", key],
            "fails every request before it is sent",
            "give a time such as \"2s\", or leave it out for none",
        );
    }
    if let Some(retry) = value.get_ref().as_table().and_then(|t| t.get("retry")) {
        ok &= not_too_long(errors, retry, "retry", &["backoff", "max-backoff"]);
        ok &= ordered(
            errors,
            retry,
            "retry",
            ["backoff", "max-backoff"],
            "every wait is max-backoff",
        );
    }
    ok
}

/// `[expect] duration` (`value`): some bound, none longer than a scenario
/// runs, a `max` above zero and no less than `min`.
pub(crate) fn bounds(errors: &mut Errors, value: &Value) -> bool {
    [
        not_empty(errors, value, "duration"),
        not_too_long(errors, value, "duration", &["min", "max"]),
        not_zero(
            errors,
            value,
            ["duration", "max"],
            "can never hold: every run takes some time",
            "give the longest the client may take, such as \"2s\"",
        ),
        ordered(
            errors,
            value,
            "duration",
            ["min", "max"],
            "no run can match",
        ),
    ]
    .iter()
    .all(|ok| *ok)
}

/// `[expect] gaps` (`value`, read as `gaps`): no duration longer than a
/// scenario runs, `min` no more than `max`, and an exponential schedule that
/// starts above zero, grows, and has a `cap` no less than its `base`.
pub(crate) fn gaps(errors: &mut Errors, value: &Value, gaps: &Gaps) -> bool {
    let mut ok = not_too_long(errors, value, "gaps", &["min", "max", "tolerance"]);
    ok &= ordered(errors, value, "gaps", ["min", "max"], "no gap can match");
    let table = value.get_ref().as_table();
    let exactly = table
        .and_then(|t| t.get("exactly"))
        .and_then(|e| e.get_ref().as_array());
    for (gap, d) in exactly.into_iter().flatten().zip(&gaps.exactly) {
        let text = gap.get_ref().as_str().unwrap_or_default();
        ok &= too_long(errors, "gaps exactly", text, gap.span(), *d);
    }
    if let (Some(exponential), Some(schedule)) =
        (table.and_then(|t| t.get("exponential")), gaps.exponential)
    {
        ok &= not_too_long(errors, exponential, "gaps.exponential", &["base", "cap"]);
        ok &= not_zero(
            errors,
            exponential,
            ["gaps.exponential", "base"],
            "makes every gap 0s",
            "give the first gap, such as \"100ms\", or use max = \"50ms\" for retries without a wait",
        );
        ok &= ordered(
            errors,
            exponential,
            "gaps.exponential",
            ["base", "cap"],
            "every gap is the cap",
        );
        ok &= factor(errors, exponential, "gaps.exponential", schedule.factor);
    }
    ok
}

/// In table `value` (named `what`), duration `low` is not more than `high`;
/// `otherwise` says what an inverted pair would mean.
pub(crate) fn ordered(
    errors: &mut Errors,
    value: &Value,
    what: &str,
    [low, high]: [&str; 2],
    otherwise: &str,
) -> bool {
    match (written(value, low), written(value, high)) {
        (Some(l), Some(h)) if l.duration > h.duration => {
            errors.at(
                l.span,
                format!(
                    "{what}: {low} {:?} is more than {high} {:?}, so {otherwise}; swap them",
                    l.text, h.text
                ),
            );
            false
        }
        _ => true,
    }
}

/// An `attempts = { min, max }` range that some count can meet.
pub(crate) fn count_range(
    errors: &mut Errors,
    value: &Value,
    min: Option<u64>,
    max: Option<u64>,
) -> bool {
    let message = match (min, max) {
        (None, None) => "attempts = {} expects nothing; give min, max or both, or a number for exactly that many".to_owned(),
        (Some(min), Some(max)) if min > max => format!(
            "attempts: min {min} is more than max {max}, so no count can match; swap them"
        ),
        _ => return true,
    };
    errors.at(value.span(), message);
    false
}

/// A table of bounds (`duration`) that gives at least one of them.
pub(crate) fn not_empty(errors: &mut Errors, value: &Value, what: &str) -> bool {
    let empty = value.get_ref().as_table().is_some_and(|t| t.is_empty());
    if empty {
        errors.at(
            value.span(),
            format!("{what} = {{}} expects nothing; give min, max or both"),
        );
    }
    !empty
}

/// A growth factor of a backoff schedule: finite, and at least 1.
pub(crate) fn factor(errors: &mut Errors, value: &Value, what: &str, factor: f64) -> bool {
    let fine = factor.is_finite() && factor >= 1.0;
    if !fine {
        let span = value
            .get_ref()
            .as_table()
            .and_then(|t| t.get("factor"))
            .map_or(value.span(), |f| f.span());
        errors.at(
            span,
            format!("{what} factor {factor} must be a number of at least 1"),
        );
    }
    fine
}

/// What `http2` (valid) allows: `false` only where the fault does not act
/// on HTTP/2; HTTP/2 (`http2 = true`, or an `h2-*` fault) not where the
/// fault stands in front of an upstream, which is served HTTP/1.1 only.
pub(crate) fn http2(
    errors: &mut Errors,
    top: &DeTable,
    fault: &Fault,
    http2: bool,
    upstream: bool,
) {
    if let (false, true, Some(value)) = (http2, fault.is_http2(), top.get("http2")) {
        errors.at(
            value.span(),
            format!(
                "http2 = false does not apply to {:?}: it acts on HTTP/2, so its server always speaks it; remove http2 = false",
                fault.name()
            ),
        );
    }
    if !upstream {
        return;
    }
    let (key, what) = match (http2, fault.is_http2()) {
        (true, _) => ("http2", "http2 = true".to_owned()),
        (false, true) => ("fault", format!("{:?} acts on HTTP/2", fault.name())),
        (false, false) => return,
    };
    if let Some(value) = top.get(key) {
        errors.at(
            value.span(),
            format!(
                "{what}, but a fault in front of an upstream is served over HTTP/1.1 only; \
                 remove the upstream, or serve an HTTP/1.1 fault"
            ),
        );
    }
}

/// What `fault` and `tls` (both valid) allow elsewhere in the file `top`:
/// `tls = true` only on a fault that can be served behind TLS, and `{ca}` in
/// `run` only for an https server.
pub(crate) fn across(errors: &mut Errors, top: &DeTable, fault: &Fault, tls: bool) {
    if let (true, Some(value), Some(why)) = (tls, top.get("tls"), fault.why_not_behind_tls()) {
        errors.at(
            value.span(),
            format!(
                "tls = true does not apply to {:?}: {why}; remove tls = true",
                fault.name()
            ),
        );
    }
    let run = top
        .get("client")
        .and_then(|client| client.get_ref().as_table()?.get("run"))
        .and_then(|run| run.get_ref().as_array());
    if tls || fault.is_tls() {
        return;
    }
    let Some(arg) = run.into_iter().flatten().find(|arg| {
        arg.get_ref()
            .as_str()
            .is_some_and(|arg| arg.contains("{ca}"))
    }) else {
        return;
    };
    errors.at(
        arg.span(),
        format!(
            "run argument {:?} names the server's CA, but {:?} serves plain HTTP and has none; \
             add tls = true to serve it behind TLS, or drop the argument",
            arg.get_ref().as_str().unwrap_or_default(),
            fault.name()
        ),
    );
}
