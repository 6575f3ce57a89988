//! A retry scenario's attempts as an SVG timeline: one lane per run, each
//! attempt a bar from its start to its end coloured by how it ended, the gap
//! between consecutive starts written above; and, when the scenario gives
//! one, the expected schedule in a lane of its own.

use std::fmt::Write as _;
use std::time::Duration;

use crate::matrix::entry::Span;
use crate::matrix::html::escape;
use crate::schedule::{Gaps, Jitter};

/// The drawing's width; lanes are labelled left of `LEFT`.
const WIDTH: f64 = 640.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const LANE: f64 = 40.0;
const BAR_TOP: f64 = 18.0;
const BAR: f64 = 14.0;
const AXIS: f64 = 26.0;

/// Each way an attempt ends: its journal name, colour and words.
pub(crate) const ENDINGS: &[(&str, &str, &str)] = &[
    ("server-fin", "#2b6cb0", "server closed (FIN)"),
    ("server-rst", "#c53030", "server reset (RST)"),
    ("client-fin", "#2f855a", "client closed (FIN)"),
    ("client-rst", "#dd6b20", "client reset (RST)"),
    ("kept-alive", "#6b46c1", "kept alive"),
    ("server-stopped", "#718096", "server stopped"),
];
/// The colour of an attempt still open when the run ended.
pub(crate) const OPEN: (&str, &str) = ("#a0aec0", "still open");

/// Where attempts are expected to start, in seconds since the server started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    /// Each start in a window, from the first observed start on.
    Starts(Vec<Window>),
    /// Each start at least this long after the one before.
    AtLeast(f64),
}

impl Planned {
    /// The plan `gaps` gives for a run whose first attempt started at
    /// `first`, with `count` gaps when the schedule does not list them.
    pub(crate) fn of(gaps: &Gaps, first: f64, count: usize) -> Option<Planned> {
        let planned: Vec<Duration> = match (gaps.exactly.is_empty(), gaps.exponential) {
            (false, _) => gaps.exactly.clone(),
            (true, Some(exponential)) => (0..count).map(|i| exponential.gap(i)).collect(),
            (true, None) => return gaps.min.map(|min| Planned::AtLeast(min.as_secs_f64())),
        };
        let tolerance = gaps.tolerance.as_secs_f64();
        let (mut early, mut planned_start) = (first, first);
        let mut windows = vec![Window {
            early: first,
            planned: first,
            late: first,
        }];
        for gap in planned {
            let gap = gap.as_secs_f64();
            let shortest = match gaps.jitter {
                Jitter::None => gap,
                Jitter::Full => 0.0,
                Jitter::Equal => gap / 2.0,
            };
            early += shortest;
            planned_start += gap;
            windows.push(Window {
                early: (early - tolerance).max(first),
                planned: planned_start,
                late: planned_start + tolerance,
            });
        }
        Some(Planned::Starts(windows))
    }

    fn end(&self) -> f64 {
        match self {
            Planned::Starts(windows) => windows.iter().map(|w| w.late).fold(0.0, f64::max),
            Planned::AtLeast(_) => 0.0,
        }
    }
}

/// When one attempt is expected to start, in seconds since the server started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    /// The earliest start allowed.
    pub(crate) early: f64,
    /// The start the schedule names: each gap in full, without jitter.
    pub(crate) planned: f64,
    /// The latest start allowed.
    pub(crate) late: f64,
}

/// The time axis: seconds to x, from 0 to a round end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    /// The last second shown.
    pub(crate) end: f64,
    /// Seconds between ticks.
    pub(crate) step: f64,
}

impl Scale {
    /// A scale from 0 past `latest`, about five ticks long.
    pub(crate) fn to(latest: f64) -> Scale {
        let latest = latest.max(0.001);
        let rough = latest / 5.0;
        let magnitude = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|step| *step >= rough)
            .unwrap_or(10.0 * magnitude);
        Scale {
            end: (latest / step).ceil() * step,
            step,
        }
    }

    /// The x of `seconds`.
    pub(crate) fn x(self, seconds: f64) -> f64 {
        LEFT + seconds.clamp(0.0, self.end) / self.end * (WIDTH - LEFT - RIGHT)
    }
}

/// The SVG: a lane per run in `runs`, below the expected lane when `planned`.
pub(crate) fn svg(runs: &[&[Span]], planned: Option<&Planned>) -> String {
    let latest = runs
        .iter()
        .flat_map(|spans| spans.iter())
        .map(|span| span.ended.unwrap_or(span.started))
        .chain(planned.map(Planned::end))
        .fold(0.0, f64::max);
    let scale = Scale::to(latest);
    let lanes = runs.len() + usize::from(planned.is_some());
    let height = lanes as f64 * LANE + AXIS;
    let mut out = format!(
        "<svg class=\"timeline\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"attempts on a time axis\">"
    );
    let mut top = 0.0;
    if let Some(planned) = planned {
        expected_lane(
            &mut out,
            planned,
            runs.first().copied().unwrap_or(&[]),
            scale,
            top,
        );
        top += LANE;
    }
    for (number, spans) in runs.iter().enumerate() {
        let label = if runs.len() == 1 {
            "observed".to_owned()
        } else {
            format!("run {}", number + 1)
        };
        observed_lane(&mut out, &label, spans, scale, top);
        top += LANE;
    }
    axis(&mut out, scale, top);
    out.push_str("</svg>");
    out
}

fn observed_lane(out: &mut String, label: &str, spans: &[Span], scale: Scale, top: f64) {
    lane_label(out, label, top);
    for (number, span) in spans.iter().enumerate() {
        let (colour, words) = ending(span.ending.as_deref());
        let start = scale.x(span.started);
        let end = scale.x(span.ended.unwrap_or(scale.end));
        let ended = span
            .ended
            .map_or("still open".to_owned(), |t| format!("ended {t:.3} s"));
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{start:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" \
             fill=\"{colour}\"><title>attempt {}: started {:.3} s, {}, {}</title></rect>",
            top + BAR_TOP,
            (end - start).max(2.0),
            number + 1,
            span.started,
            escape(&ended),
            escape(words)
        );
    }
    for pair in spans.windows(2) {
        gap_label(out, scale, top, pair[0].started, pair[1].started);
    }
}

fn expected_lane(out: &mut String, planned: &Planned, first_run: &[Span], scale: Scale, top: f64) {
    lane_label(out, "expected", top);
    match planned {
        Planned::Starts(windows) => {
            for Window { early, late, .. } in windows {
                let (x, width) = (scale.x(*early), (scale.x(*late) - scale.x(*early)).max(2.0));
                let _ = write!(
                    out,
                    "<rect class=\"window\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" \
                     height=\"{BAR}\" fill=\"#cbd5e0\" stroke=\"#4a5568\" stroke-dasharray=\"3 2\">\
                     <title>an attempt expected from {early:.3} s to {late:.3} s</title></rect>",
                    top + BAR_TOP
                );
            }
            for pair in windows.windows(2) {
                gap_label(out, scale, top, pair[0].planned, pair[1].planned);
            }
        }
        Planned::AtLeast(min) => {
            for span in first_run {
                let x = scale.x(span.started);
                let width = scale.x(span.started + min) - x;
                let _ = write!(
                    out,
                    "<rect class=\"window\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" \
                     height=\"{BAR}\" fill=\"#fed7d7\"><title>no attempt expected within \
                     {min:.3} s of one started at {:.3} s</title></rect>",
                    top + BAR_TOP,
                    span.started
                );
            }
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">each gap at least {min:.2} s</text>",
                LEFT,
                top + 12.0
            );
        }
    }
}

fn lane_label(out: &mut String, label: &str, top: f64) {
    let _ = write!(
        out,
        "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text>",
        top + BAR_TOP + BAR - 3.0,
        escape(label)
    );
}

/// The gap from one start to the next, in seconds, centred above them.
fn gap_label(out: &mut String, scale: Scale, top: f64, from: f64, to: f64) {
    let (x1, x2) = (scale.x(from), scale.x(to));
    let _ = write!(
        out,
        "<path d=\"M{x1:.1} {y:.1}V{t:.1}H{x2:.1}V{y:.1}\" fill=\"none\" stroke=\"#4a5568\"/>\
         <text class=\"gap\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{:.2} s</text>",
        (x1 + x2) / 2.0,
        top + 10.0,
        to - from,
        y = top + BAR_TOP - 1.0,
        t = top + 13.0,
    );
}

fn axis(out: &mut String, scale: Scale, top: f64) {
    let _ = write!(
        out,
        "<path d=\"M{LEFT} {top:.1}H{:.1}\" stroke=\"#2d3748\"/>",
        scale.x(scale.end)
    );
    let ticks = (scale.end / scale.step).round() as usize;
    for tick in 0..=ticks {
        let seconds = tick as f64 * scale.step;
        let x = scale.x(seconds);
        let _ = write!(
            out,
            "<path d=\"M{x:.1} {top:.1}v4\" stroke=\"#2d3748\"/><text x=\"{x:.1}\" y=\"{:.1}\" \
             font-size=\"11\" text-anchor=\"middle\">{} s</text>",
            top + 16.0,
            seconds_text(seconds, scale.step)
        );
    }
}

/// A tick's seconds, with as many decimals as its step needs.
fn seconds_text(seconds: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{seconds:.decimals$}")
}

/// The colour and words of an ending named as in the journal's JSON.
pub(crate) fn ending(name: Option<&str>) -> (&'static str, &'static str) {
    ENDINGS
        .iter()
        .find(|(known, _, _)| Some(*known) == name)
        .map_or(OPEN, |(_, colour, words)| (*colour, *words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(started: f64, ended: f64, ending: &str) -> Span {
        Span {
            started,
            ended: Some(ended),
            ending: Some(ending.to_owned()),
        }
    }

    #[test]
    fn a_scale_ends_on_a_round_tick_past_the_latest_time() {
        assert_eq!(
            Scale::to(2.5),
            Scale {
                end: 2.5,
                step: 0.5
            }
        );
        assert_eq!(
            Scale::to(2.6),
            Scale {
                end: 3.0,
                step: 1.0
            }
        );
        assert_eq!(
            Scale::to(0.07),
            Scale {
                end: 0.08,
                step: 0.02
            }
        );
        assert_eq!(seconds_text(0.04, 0.02), "0.04");
        assert_eq!(seconds_text(3.0, 1.0), "3");
    }

    #[test]
    fn each_attempt_is_a_bar_from_its_start_to_its_end_in_its_ending_colour() {
        let spans = [span(0.5, 1.0, "server-rst"), span(1.5, 2.5, "client-fin")];
        let drawn = svg(&[&spans], None);
        // 0 to 2.5 s over the 540 pixels from x = 80.
        assert!(drawn.contains("<rect class=\"bar\" x=\"188.0\" y=\"18.0\" width=\"108.0\" height=\"14\" fill=\"#c53030\">"), "{drawn}");
        assert!(drawn.contains("<rect class=\"bar\" x=\"404.0\" y=\"18.0\" width=\"216.0\" height=\"14\" fill=\"#2f855a\">"), "{drawn}");
        assert!(
            drawn.contains("text-anchor=\"middle\">1.00 s</text>"),
            "{drawn}"
        );
        assert!(drawn.contains(">2.5 s</text>"), "{drawn}");
    }

    #[test]
    fn the_expected_schedule_is_a_lane_of_windows_above_the_runs() {
        let gaps = Gaps {
            exactly: vec![Duration::from_secs(1), Duration::from_secs(1)],
            tolerance: Duration::from_millis(250),
            ..Gaps::default()
        };
        let planned = Planned::of(&gaps, 0.5, 2).expect("a schedule");
        assert_eq!(
            planned,
            Planned::Starts(vec![
                Window {
                    early: 0.5,
                    planned: 0.5,
                    late: 0.5
                },
                Window {
                    early: 1.25,
                    planned: 1.5,
                    late: 1.75
                },
                Window {
                    early: 2.25,
                    planned: 2.5,
                    late: 2.75
                },
            ])
        );
        let spans = [span(0.5, 0.6, "server-fin"), span(1.5, 1.6, "server-fin")];
        let drawn = svg(&[&spans, &spans], Some(&planned));
        let lanes: Vec<&str> = ["expected", "run 1", "run 2"]
            .into_iter()
            .filter(|label| drawn.contains(&format!(">{label}</text>")))
            .collect();
        assert_eq!(lanes, ["expected", "run 1", "run 2"]);
        // The expected gaps are the schedule's, not its windows' edges.
        assert_eq!(drawn.matches(">1.00 s</text>").count(), 4, "{drawn}");
        // The second run's bars sit two lanes down.
        assert!(drawn.contains("y=\"98.0\" width=\"18.0\""), "{drawn}");
        let at_least = Gaps {
            min: Some(Duration::from_millis(100)),
            ..Gaps::default()
        };
        assert_eq!(Planned::of(&at_least, 0.0, 3), Some(Planned::AtLeast(0.1)));
    }

    #[test]
    fn an_unknown_or_missing_ending_is_drawn_as_still_open() {
        assert_eq!(ending(Some("server-rst")).1, "server reset (RST)");
        assert_eq!(ending(Some("<script>")), OPEN);
        assert_eq!(ending(None), OPEN);
    }
}
