//! Bodies of any size, written in bounded chunks, and the limits every size
//! and wait parameter is checked against.
//!
//! A fault that sends `length` bytes never holds them all: it writes them
//! [`CHUNK`] bytes at a time from a [`Source`], so a terabyte body costs the
//! server one chunk of memory, and a client that leaves after 10 MB costs it
//! 10 MB of writing. Seeded random bytes are drawn in order from one stream,
//! so a replay with the same seed sends exactly the same bytes.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::journal::Ending;

/// The largest size any fault sends or promises: 10^15 bytes (1 PB). Larger
/// ones are refused by validation, which keeps every sum and product of sizes
/// (a head plus a body, twice a body) far from overflowing.
pub(crate) const MAX_SIZE: usize = 1_000_000_000_000_000;

/// The longest any fault waits: 10 years. tokio's timers cannot sleep much
/// longer than 30 years, and a wait past that would silently be cut short.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(10 * 31_557_600);

/// Bytes per write: bounds the memory a connection costs whatever the size.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The text of every filler body, repeated; readable in a packet capture.
const LINE: &[u8] = b"outage filler text 0123456789 abcdefghijklmnopqrstuvwxyz\n";

/// Refuses a size parameter over [`MAX_SIZE`], naming the range allowed.
pub(crate) fn check_size(fault: &str, key: &str, value: usize) -> Result<(), String> {
    if value <= MAX_SIZE {
        return Ok(());
    }
    Err(format!(
        "{fault} `{key}` {value} is out of range; use 0 to {MAX_SIZE} bytes (1 PB)"
    ))
}

/// Refuses a wait parameter over [`MAX_WAIT`], naming the range allowed.
pub(crate) fn check_wait(fault: &str, key: &str, value: Duration) -> Result<(), String> {
    if value <= MAX_WAIT {
        return Ok(());
    }
    Err(format!(
        "{fault} `{key}` {} is too long; use 0s to {}",
        humantime::format_duration(value),
        humantime::format_duration(MAX_WAIT)
    ))
}

/// Deserializes a size field (`#[serde(deserialize_with = ...)]`): any
/// integer is read, and a number too long for TOML's integers arrives as
/// text, so that `-1` or `18446744073709551615` are refused with the range a
/// size can have rather than as a wrong type.
pub(crate) fn size<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    struct Size;
    impl Size {
        fn check<E: serde::de::Error>(size: i128) -> Result<usize, E> {
            match usize::try_from(size) {
                Ok(fits) if fits <= MAX_SIZE => Ok(fits),
                _ => Err(E::custom(format!(
                    "size {size} is out of range; use 0 to {MAX_SIZE} bytes (1 PB)"
                ))),
            }
        }
    }
    impl serde::de::Visitor<'_> for Size {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a size in bytes from 0 to {MAX_SIZE}")
        }
        fn visit_i64<E: serde::de::Error>(self, size: i64) -> Result<usize, E> {
            Size::check(size.into())
        }
        fn visit_u64<E: serde::de::Error>(self, size: u64) -> Result<usize, E> {
            Size::check(size.into())
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<usize, E> {
            match text.parse::<i128>() {
                Ok(size) => Size::check(size).and(Err(E::invalid_type(
                    serde::de::Unexpected::Str(text),
                    &self,
                ))),
                Err(_) => Err(E::invalid_type(serde::de::Unexpected::Str(text), &self)),
            }
        }
    }
    deserializer.deserialize_any(Size)
}

/// Where the bytes after a source's head come from.
enum Fill {
    /// The filler text, from its start.
    Text,
    /// Seeded random bytes, drawn in order.
    Random(Box<ChaCha8Rng>),
}

/// The bytes of a response produced in order, a chunk at a time: a head held
/// in memory, then a body of any length that is generated as it is sent.
pub(crate) struct Source {
    head: Vec<u8>,
    fill: Fill,
    /// Bytes produced so far, head included.
    pos: u64,
    /// Bytes in all, head included.
    len: u64,
}

impl Source {
    /// `head`, then `body` bytes of filler text.
    pub(crate) fn text(head: Vec<u8>, body: usize) -> Source {
        let len = head.len() as u64 + body as u64;
        Source {
            head,
            fill: Fill::Text,
            pos: 0,
            len,
        }
    }

    /// A `200 OK` plain-text response with a `body`-byte filler body.
    pub(crate) fn ok_response(body: usize) -> Source {
        let head = wire::head(
            200,
            &[
                ("content-type", "text/plain".to_owned()),
                ("content-length", body.to_string()),
            ],
        );
        Source::text(head, body)
    }

    /// `len` bytes drawn from `seed`, with no head; the first is never `H`,
    /// so they can never start like a status line.
    pub(crate) fn random(seed: u64, len: usize) -> Source {
        Source {
            head: Vec::new(),
            fill: Fill::Random(Box::new(ChaCha8Rng::seed_from_u64(seed))),
            pos: 0,
            len: len as u64,
        }
    }

    /// Bytes in all, head included.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Ends the source after its first `limit` bytes.
    pub(crate) fn cut(mut self, limit: u64) -> Source {
        self.len = self.len.min(limit);
        self
    }

    /// Replaces `buf` with the next bytes, at most `max`; empty at the end.
    pub(crate) fn next_into(&mut self, max: usize, buf: &mut Vec<u8>) {
        buf.clear();
        let left = self.len - self.pos;
        let want = usize::try_from(left).map_or(max, |left| left.min(max));
        let head_len = self.head.len() as u64;
        if self.pos < head_len {
            // `pos` is inside the head, which is a `Vec`, so it fits a usize.
            let from = self.pos as usize;
            let end = self.head.len().min(from + want);
            buf.extend_from_slice(&self.head[from..end]);
        }
        let body_pos = (self.pos + buf.len() as u64).saturating_sub(head_len);
        let more = want - buf.len();
        match &mut self.fill {
            Fill::Text => {
                // Whole slices of the line, not byte by byte: a debug build
                // then fills a chunk as fast as it sends one.
                let mut at = (body_pos % LINE.len() as u64) as usize;
                let mut more = more;
                while more > 0 {
                    let piece = &LINE[at..LINE.len().min(at + more)];
                    buf.extend_from_slice(piece);
                    more -= piece.len();
                    at = 0;
                }
            }
            Fill::Random(rng) => {
                let start = buf.len();
                buf.resize(start + more, 0);
                rng.fill_bytes(&mut buf[start..]);
                // Random bytes never start like a status line.
                if let (0, Some(first @ b'H')) = (self.pos, buf.first_mut()) {
                    *first = b'\x00';
                }
            }
        }
        self.pos += buf.len() as u64;
    }

    /// Every byte, in one buffer: for tests and small sizes only.
    #[cfg(test)]
    pub(crate) fn collect(mut self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = Vec::new();
        loop {
            self.next_into(CHUNK, &mut buf);
            if buf.is_empty() {
                return all;
            }
            all.extend_from_slice(&buf);
        }
    }
}

/// Sends the next `count` bytes of `source` (fewer at its end) in writes of
/// at most [`CHUNK`] bytes; `Err` is the ending when the client goes away.
pub(crate) async fn send(
    exchange: &mut Exchange,
    source: &mut Source,
    count: u64,
    buf: &mut Vec<u8>,
) -> Result<(), Ending> {
    let mut left = count;
    while left > 0 {
        let max = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        source.next_into(max, buf);
        if buf.is_empty() {
            break;
        }
        if exchange.conn.send(buf).await.is_err() {
            return Err(Ending::ClientRst);
        }
        left -= buf.len() as u64;
    }
    Ok(())
}

/// Journals `action`, sends all of `source`, and closes with a FIN: the shape
/// of every fault that writes a broken response of any size and hangs up.
pub(crate) async fn send_and_close(
    exchange: &mut Exchange,
    mut source: Source,
    action: String,
) -> Ending {
    exchange.did(action);
    let mut buf = Vec::new();
    match send(exchange, &mut source, u64::MAX, &mut buf).await {
        Ok(()) => exchange.conn.close_fin().await,
        Err(ending) => ending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_any_size_join_into_the_same_bytes() {
        let whole = Source::text(b"HEAD\r\n".to_vec(), 1000).collect();
        assert_eq!(whole.len(), 1006);
        assert!(whole.starts_with(b"HEAD\r\noutage filler text"));
        for max in [1, 3, 57, 58, 59, 1000] {
            let mut source = Source::text(b"HEAD\r\n".to_vec(), 1000);
            let (mut joined, mut buf) = (Vec::new(), Vec::new());
            loop {
                source.next_into(max, &mut buf);
                if buf.is_empty() {
                    break;
                }
                assert!(buf.len() <= max);
                joined.extend_from_slice(&buf);
            }
            assert_eq!(joined, whole, "in chunks of {max}");
        }
    }

    #[test]
    fn random_bytes_replay_from_their_seed_and_a_cut_ends_early() {
        let a = Source::random(7, 3 * CHUNK + 5).collect();
        assert_eq!(a.len(), 3 * CHUNK + 5);
        assert_eq!(a, Source::random(7, 3 * CHUNK + 5).collect());
        assert_ne!(a, Source::random(8, 3 * CHUNK + 5).collect());
        assert_eq!(Source::random(7, 3 * CHUNK + 5).cut(10).collect(), a[..10]);
    }

    #[test]
    fn a_huge_source_costs_one_chunk() {
        let mut source = Source::text(Vec::new(), MAX_SIZE);
        let mut buf = Vec::new();
        source.next_into(CHUNK, &mut buf);
        assert_eq!(buf.len(), CHUNK);
        assert_eq!(source.len(), MAX_SIZE as u64);
    }

    #[test]
    fn a_size_field_reads_any_integer_and_names_the_range() {
        #[derive(serde::Deserialize, Debug)]
        struct Sized {
            #[serde(deserialize_with = "size")]
            n: usize,
        }
        let read = |text: &str| {
            toml::from_str::<Sized>(&format!("n = {text}")).map_err(|e| e.message().to_owned())
        };
        assert_eq!(read("1000000000000").unwrap().n, 1_000_000_000_000);
        let range = "use 0 to 1000000000000000 bytes (1 PB)";
        assert_eq!(
            read("-1").unwrap_err(),
            format!("size -1 is out of range; {range}")
        );
        assert_eq!(
            read("\"18446744073709551615\"").unwrap_err(),
            format!("size 18446744073709551615 is out of range; {range}")
        );
        assert!(
            read("\"12\"")
                .unwrap_err()
                .starts_with("invalid type: string")
        );
    }

    #[test]
    fn sizes_and_waits_past_their_limits_name_the_range() {
        assert_eq!(
            check_size("truncate", "length", usize::MAX).unwrap_err(),
            "truncate `length` 18446744073709551615 is out of range; \
             use 0 to 1000000000000000 bytes (1 PB)"
        );
        assert!(check_size("truncate", "length", MAX_SIZE).is_ok());
        assert_eq!(
            check_wait("slicer", "delay", Duration::from_secs(u64::MAX)).unwrap_err(),
            "slicer `delay` 584542046090years 7months 15days 17h 5m 3s is too long; \
             use 0s to 10years"
        );
        assert!(check_wait("slicer", "delay", MAX_WAIT).is_ok());
    }
}
