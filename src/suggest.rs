//! "Did you mean …?": the known word closest to a misspelt one.

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

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(nearest("rest", ["reset", "refuse", "ok"]), Some("reset"));
        assert_eq!(nearest("teapot", ["reset", "refuse", "ok"]), None);
    }
}
