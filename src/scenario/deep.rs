//! Finding the key nested too deep, which the TOML parser refuses without
//! saying where ("recursion limit").

use std::ops::Range;

/// The most parts a dotted key may have before the TOML parser gives up.
pub(crate) const PARSER_LIMIT: usize = 80;

/// The first table header or key of more than [`PARSER_LIMIT`] dotted parts
/// in `text`, with a message about it. A key may start a line, or follow the
/// `{` or `,` of an inline table.
pub(crate) fn too_deep(text: &str) -> Option<(Range<usize>, String)> {
    let after = text.match_indices(['\n', '{', ',']).map(|(i, _)| i + 1);
    std::iter::once(0)
        .chain(after)
        .find_map(|at| deep_key(text, at))
}

/// The key at byte `at` of `text`, if it has more than [`PARSER_LIMIT`] parts.
fn deep_key(text: &str, at: usize) -> Option<(Range<usize>, String)> {
    let rest = &text[at..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let start = at + rest.len() - trimmed.len();
    let (key, end) = match trimmed.strip_prefix('[') {
        Some(header) => (header.strip_prefix('[').unwrap_or(header), b']'),
        None => (trimmed, b'='),
    };
    let parts = dotted_parts(key, end)?;
    if parts <= PARSER_LIMIT {
        return None;
    }
    let shown: String = key.chars().take(20).collect();
    let message = format!(
        "key {:?} has {parts} dotted parts, more than TOML parsing allows ({PARSER_LIMIT}); \
         a scenario's keys have at most 3, such as [expect.gaps.exponential]",
        format!("{}…", shown.trim_end_matches(['.', ' ']))
    );
    Some((start..start + 1, message))
}

/// The parts of the dotted key at the start of `text`, when it ends with
/// `end` on the same line; a quoted part may hold dots. Stopping at the first
/// character no key may hold keeps each look short, so that looking from
/// every `,` of a long line stays linear.
fn dotted_parts(text: &str, end: u8) -> Option<usize> {
    let mut parts = 1;
    let mut quote = None;
    for byte in text.bytes() {
        match (quote, byte) {
            (Some(open), byte) if byte == open => quote = None,
            (Some(_), b'\n') => return None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'.') => parts += 1,
            (None, byte) if byte == end => return Some(parts),
            (None, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b' ' | b'\t') => {}
            (None, _) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_header_or_key_nested_too_deep() {
        let deep = vec!["a"; 20_000].join(".");
        let text = format!("description = \"x\"\n  [{deep}]\n");
        let (span, message) = too_deep(&text).expect("the deep header");
        assert_eq!(span, 20..21);
        assert!(
            message.starts_with("key \"a.a.a.a.a.a.a.a.a.a…\" has 20000 dotted parts"),
            "{message}"
        );
        assert_eq!(too_deep(&format!("{deep} = 1")).map(|(s, _)| s), Some(0..1));
        let inline = format!("x = {{ b = 1, {deep} = 1 }}");
        assert_eq!(too_deep(&inline).map(|(s, _)| s), Some(13..14));
        assert_eq!(too_deep("[expect.gaps]\n'a.b' = 1\nx = \"a.b.c\"\n"), None);
    }
}
