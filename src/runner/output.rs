//! A client's output stream, read to its end and kept within a bound: the
//! head and the tail, with the middle counted and dropped. The tail matters
//! most, because the probe line is the last JSON line; reading on to the end
//! means a client that writes a lot never dies of SIGPIPE.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::sync::CancellationToken;

/// Bytes kept from the start of a stream.
const HEAD: usize = 256 << 10;
/// Bytes kept from the end of a stream.
const TAIL: usize = 768 << 10;

/// The kept part of one stream.
#[derive(Default)]
pub(crate) struct Kept {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// Bytes dropped between the head and the tail.
    dropped: u64,
}

impl Kept {
    fn push(&mut self, bytes: &[u8]) {
        let into_head = bytes.len().min(HEAD - self.head.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        self.tail.extend(&bytes[into_head..]);
        if self.tail.len() > TAIL {
            let excess = self.tail.len() - TAIL;
            self.tail.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// The kept text, with a line saying how much was dropped, if anything was.
    pub(crate) fn text(mut self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[outage: {} bytes of output dropped here; the first {HEAD} and the last {TAIL} are kept]\n",
                self.dropped
            ));
        }
        text.push_str(&String::from_utf8_lossy(self.tail.make_contiguous()));
        text
    }
}

/// Reads `pipe` to its end, or until `stop` is cancelled.
pub(crate) async fn collect(pipe: Option<impl AsyncRead + Unpin>, stop: CancellationToken) -> Kept {
    let mut kept = Kept::default();
    let Some(mut pipe) = pipe else {
        return kept;
    };
    let mut buffer = vec![0; 64 << 10];
    while !stop.is_cancelled() {
        tokio::select! {
            read = pipe.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => kept.push(&buffer[..n]),
            },
            () = stop.cancelled() => break,
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_stream_is_kept_whole() {
        let mut kept = Kept::default();
        kept.push(b"one\n");
        kept.push(b"two\n");
        assert_eq!(kept.text(), "one\ntwo\n");
    }

    #[test]
    fn a_long_stream_keeps_its_head_and_its_last_line() {
        let mut kept = Kept::default();
        for _ in 0..100 {
            kept.push(&[b'x'; 64 << 10]);
        }
        let probe = b"\n{\"outcome\": \"response\", \"status\": 200}\n";
        kept.push(probe);
        let dropped = 100 * (64 << 10) + probe.len() - HEAD - TAIL;
        let text = kept.text();
        assert!(text.len() < HEAD + TAIL + 200, "{}", text.len());
        assert!(
            text.contains(&format!("[outage: {dropped} bytes of output dropped here;")),
            "the dropped bytes are counted"
        );
        assert!(text.ends_with("x\n{\"outcome\": \"response\", \"status\": 200}\n"));
    }
}
