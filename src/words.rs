//! Words for users: "did you mean …?", and serde's messages without Rust type names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// A serde `message` with Rust's type names put in words.
#[cfg(feature = "runner")]
pub(crate) fn plain(message: &str) -> String {
    const WORDS: [(&str, &str); 10] = [
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        (
            "expected struct Route",
            "expected a route such as { path = \"/api/*\", fault = \"reset\" }",
        ),
        (
            "expected struct ReqwestSettings",
            "expected the built-in client's settings, such as { read-timeout = \"2s\" }",
        ),
        (
            "expected struct RetryPolicy",
            "expected a retry policy such as { times = 3, backoff = \"100ms\" }",
        ),
        (
            "expected struct Bounds",
            "expected bounds such as { min = \"1s\", max = \"3s\" }",
        ),
        (
            "expected struct Gaps",
            "expected gaps such as { min = \"100ms\" } or { exactly = [\"1s\", \"2s\"] }",
        ),
        (
            "expected struct Exponential",
            "expected a schedule such as { base = \"100ms\", factor = 2 }",
        ),
    ];
    let worded = WORDS
        .iter()
        .find_map(|(rust, words)| {
            message
                .strip_suffix(rust)
                .map(|head| format!("{head}{words}"))
        })
        .unwrap_or_else(|| message.to_owned());
    match suggestion(message) {
        Some(nearest) => format!("{worded}; did you mean \"{nearest}\"?"),
        None => worded,
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or variant),
/// the listed name closest to `x`. Only a hint: if serde words it otherwise,
/// there is none.
#[cfg(feature = "runner")]
fn suggestion(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (given, listed) = rest.split_once("`, expected ")?;
    let listed = listed.strip_prefix("one of ").unwrap_or(listed);
    let names = listed.split(", ").flat_map(|part| part.split(" or "));
    nearest(given, names.map(|name| name.trim_matches('`')))
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[cfg(feature = "runner")]
    #[test]
    fn an_unknown_field_or_variant_gets_the_nearest_name() {
        use super::plain;
        assert_eq!(
            plain("unknown field `total-timout`, expected one of `path`, `total-timeout`"),
            "unknown field `total-timout`, expected one of `path`, `total-timeout`; did you mean \"total-timeout\"?"
        );
        assert_eq!(
            plain("unknown variant `eror`, expected `response` or `error`"),
            "unknown variant `eror`, expected `response` or `error`; did you mean \"error\"?"
        );
        assert_eq!(
            plain("unknown field `zzz`, expected `path`"),
            "unknown field `zzz`, expected `path`"
        );
    }

    #[cfg(feature = "runner")]
    #[test]
    fn rust_type_names_become_words() {
        use super::plain;
        assert_eq!(
            plain("invalid type: string \"x\", expected u64"),
            "invalid type: string \"x\", expected a whole number, 0 or more"
        );
        assert_eq!(
            plain("invalid type: integer `1`, expected struct Route"),
            "invalid type: integer `1`, expected a route such as { path = \"/api/*\", fault = \"reset\" }"
        );
        assert_eq!(plain("anything else"), "anything else");
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(nearest("rest", ["reset", "refuse", "ok"]), Some("reset"));
        assert_eq!(nearest("teapot", ["reset", "refuse", "ok"]), None);
    }
}
