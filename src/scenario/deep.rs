//! Finding the key nested too deep, which the TOML parser refuses without
//! saying where ("recursion limit").

use std::ops::Range;

/// The most parts a dotted key may have before the TOML parser gives up.
pub(crate) const PARSER_LIMIT: usize = 80;

/// The first table header or key of more than [`PARSER_LIMIT`] dotted parts
/// in `text`, with a message about it.
pub(crate) fn too_deep(text: &str) -> Option<(Range<usize>, String)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let start = offset + line.len() - trimmed.len();
        offset += line.len();
        let (key, end) = match trimmed.strip_prefix('[') {
            Some(header) => (header.strip_prefix('[').unwrap_or(header), b']'),
            None => (trimmed, b'='),
        };
        let Some(parts) = dotted_parts(key, end) else {
            continue;
        };
        if parts > PARSER_LIMIT {
            let shown: String = key.chars().take(20).collect();
            let message = format!(
                "key {:?} has {parts} dotted parts, more than TOML parsing allows ({PARSER_LIMIT}); \
                 a scenario's keys have at most 3, such as [expect.gaps.exponential]",
                format!("{}…", shown.trim_end_matches(['.', ' ']))
            );
            return Some((start..start + 1, message));
        }
    }
    None
}

/// The parts of the dotted key at the start of `text`, when it ends with
/// `end` on the same line; a quoted part may hold dots.
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
            (None, b'\n' | b'#' | b'[' | b'{' | b'=' | b']') => return None,
            (None, _) => {}
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
        assert_eq!(too_deep("[expect.gaps]\n'a.b' = 1\nx = \"a.b.c\"\n"), None);
    }
}
