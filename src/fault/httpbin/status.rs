//! httpbin's `/status/{codes}`: a code, or one drawn from a weighted list.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use crate::fault::httpbin::bad_request;
use crate::fault::{Body, parts};

/// Answers one code of `codes`: `503`, `200,500` (each equally likely) or
/// `200:0.3,500:0.7` (weighted), drawing from `rng`. Like httpbin, redirect
/// codes point at `/redirect/1` and 401 and 407 ask for credentials.
pub(super) fn answer(codes: &str, rng: &mut ChaCha8Rng) -> http::Response<Body> {
    let choices = match parse(codes) {
        Ok(choices) => choices,
        Err(message) => return bad_request(&message),
    };
    let code = pick(&choices, rng);
    let header = match code {
        301 | 302 | 303 | 305 | 307 => Some(("location", "/redirect/1")),
        401 => Some(("www-authenticate", "Basic realm=\"Fake Realm\"")),
        407 => Some(("proxy-authenticate", "Basic realm=\"Fake Realm\"")),
        _ => None,
    };
    let body = if code == 418 { "I'm a teapot\n" } else { "" };
    parts::build(code, header, body.into())
}

/// `(code, weight)` pairs from `200`, `200,500` or `200:0.3,500:0.7`.
fn parse(codes: &str) -> Result<Vec<(u16, f64)>, String> {
    let invalid =
        || format!("invalid status code list {codes:?}; give 503, 200,500 or 200:0.3,500:0.7");
    codes
        .split(',')
        .map(|choice| {
            let (code, weight) = choice.split_once(':').unwrap_or((choice, "1"));
            let code: u16 = code.trim().parse().map_err(|_| invalid())?;
            let weight: f64 = weight.trim().parse().map_err(|_| invalid())?;
            if parts::check_code(code).is_err() || !(weight.is_finite() && weight >= 0.0) {
                return Err(invalid());
            }
            Ok((code, weight))
        })
        .collect()
}

/// A code drawn with probability proportional to its weight.
fn pick(choices: &[(u16, f64)], rng: &mut ChaCha8Rng) -> u16 {
    let total: f64 = choices.iter().map(|(_, w)| w).sum();
    let mut draw = rng.next_u64() as f64 / u64::MAX as f64 * total;
    for (code, weight) in choices {
        if draw < *weight {
            return *code;
        }
        draw -= weight;
    }
    // Rounding can leave the draw at the very top: the last code takes it.
    choices.last().map_or(200, |(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn lists_and_weights_parse_and_junk_does_not() {
        assert_eq!(parse("503").unwrap(), [(503, 1.0)]);
        assert_eq!(parse("200:0.3,500:0.7").unwrap(), [(200, 0.3), (500, 0.7)]);
        assert!(
            parse("abc")
                .unwrap_err()
                .starts_with("invalid status code list \"abc\"")
        );
        assert!(parse("99").is_err());
        assert!(parse("200:-1").is_err());
    }

    #[test]
    fn weighted_draws_follow_the_weights_and_replay() {
        let choices = parse("200:0.3,500:0.7").unwrap();
        let draws = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..10_000)
                .map(|_| pick(&choices, &mut rng))
                .collect::<Vec<_>>()
        };
        let ok = draws(1).iter().filter(|c| **c == 200).count();
        assert!((2_800..3_200).contains(&ok), "{ok} of 10,000");
        assert_eq!(draws(1), draws(1));
        let zero = parse("200:0,500:1").unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!((0..1000).all(|_| pick(&zero, &mut rng) == 500));
    }
}
