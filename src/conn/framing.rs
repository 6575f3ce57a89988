//! Where an HTTP/1.1 message body ends (RFC 9112 §6), for relaying bodies
//! byte for byte without decoding them: a proxy passes chunk-size lines,
//! extensions and trailers through untouched, and needs only to know how many
//! of the bytes it reads belong to the message.

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (a request without length, a `HEAD` answer, 1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`, up to the last chunk and its trailers.
    Chunked,
    /// Everything until the sender closes (a response with neither).
    UntilClose,
}

/// The framing of a request body, from its headers.
pub(crate) fn of_request<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Framing {
    match declared(headers) {
        Framing::UntilClose => Framing::Empty,
        framing => framing,
    }
}

/// The framing of a response body, from the request's method, the status and
/// the response's headers.
pub(crate) fn of_response<'a>(
    method: &str,
    status: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Framing {
    if method.eq_ignore_ascii_case("HEAD") || status < 200 || status == 204 || status == 304 {
        return Framing::Empty;
    }
    declared(headers)
}

/// What the headers declare: chunked wins over a length (RFC 9112 §6.3);
/// an unreadable or conflicting length leaves the body to the close.
fn declared<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Framing {
    let mut length: Option<Option<u64>> = None;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or("").trim();
            return match last.eq_ignore_ascii_case("chunked") {
                true => Framing::Chunked,
                false => Framing::UntilClose,
            };
        }
        if name.eq_ignore_ascii_case("content-length") {
            let parsed = value.trim().parse::<u64>().ok();
            length = match length {
                None => Some(parsed),
                Some(seen) if seen == parsed => Some(seen),
                Some(_) => Some(None),
            };
        }
    }
    match length {
        Some(Some(0)) => Framing::Empty,
        Some(Some(n)) => Framing::Length(n),
        Some(None) => Framing::UntilClose,
        None => Framing::UntilClose,
    }
}

/// Follows a body as its bytes pass, to tell where it ends.
#[derive(Debug)]
pub(crate) struct BodyEnd {
    state: State,
    /// Where the first chunk's data begins, counted from the body's start,
    /// and its size: where a cut lands inside a chunk.
    first_chunk: Option<(u64, u64)>,
    /// Body bytes seen so far.
    seen: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes are left.
    Left(u64),
    /// Inside a chunk-size line (which may carry extensions), up to its LF.
    SizeLine {
        size: u64,
        digits: bool,
        past_digits: bool,
    },
    /// This many data bytes are left in the chunk, then its CRLF.
    Data(u64),
    /// The CRLF after a chunk's data: this many bytes of it are left.
    DataEnd(u8),
    /// Trailer lines after the last chunk: bytes in the current line so far.
    Trailers(u64),
    UntilClose,
    Done,
    /// The bytes broke the chunked grammar; the body is followed no further.
    Broken,
}

/// A chunked body that does not follow the grammar; the relay then stops
/// where the body stopped making sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadChunk;

impl BodyEnd {
    pub(crate) fn new(framing: Framing) -> BodyEnd {
        let state = match framing {
            Framing::Empty => State::Done,
            Framing::Length(n) => State::Left(n),
            Framing::Chunked => State::SizeLine {
                size: 0,
                digits: false,
                past_digits: false,
            },
            Framing::UntilClose => State::UntilClose,
        };
        BodyEnd {
            state,
            first_chunk: None,
            seen: 0,
        }
    }

    /// Stops following a body that broke its grammar: it ends here.
    pub(crate) fn stop(&mut self) {
        self.state = State::Broken;
    }

    /// Ends a body delimited by its sender's close, which has come.
    pub(crate) fn closed(&mut self) {
        self.state = State::Done;
    }

    /// True once the whole body has passed, or it stopped making sense.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done | State::Broken)
    }

    /// True when the body broke the chunked grammar.
    pub(crate) fn is_broken(&self) -> bool {
        self.state == State::Broken
    }

    /// True for a body that ends only when its sender closes.
    pub(crate) fn until_close(&self) -> bool {
        self.state == State::UntilClose
    }

    /// The start and size of the first chunk's data, once it is known.
    pub(crate) fn first_chunk(&self) -> Option<(u64, u64)> {
        self.first_chunk
    }

    /// How many of `bytes` (which follow what was scanned before) belong to
    /// the body; fewer than all of them only when the body ends inside.
    pub(crate) fn scan(&mut self, bytes: &[u8]) -> Result<usize, BadChunk> {
        let mut used = 0;
        while used < bytes.len() && !self.is_done() {
            let step = self.step(&bytes[used..])?;
            used += step;
            self.seen += step as u64;
        }
        Ok(used)
    }

    /// Consumes bytes from the start of `bytes` for the current state.
    fn step(&mut self, bytes: &[u8]) -> Result<usize, BadChunk> {
        let whole = bytes.len() as u64;
        match self.state {
            State::Left(n) | State::Data(n) => {
                let take = n.min(whole);
                self.state = match (self.state, n - take) {
                    (State::Left(_), 0) => State::Done,
                    (State::Left(_), left) => State::Left(left),
                    (_, 0) => State::DataEnd(2),
                    (_, left) => State::Data(left),
                };
                Ok(take as usize)
            }
            State::UntilClose => Ok(bytes.len()),
            State::Done | State::Broken => Ok(0),
            State::DataEnd(left) => {
                let expected = if left == 2 { b'\r' } else { b'\n' };
                match bytes[0] == expected {
                    true if left == 1 => self.state = self.size_line(),
                    true => self.state = State::DataEnd(1),
                    false => return Err(BadChunk),
                }
                Ok(1)
            }
            State::SizeLine { .. } => self.size_byte(bytes[0]).map(|()| 1),
            State::Trailers(line) => {
                self.state = match bytes[0] {
                    b'\n' if line == 0 => State::Done,
                    b'\n' => State::Trailers(0),
                    b'\r' => State::Trailers(line),
                    _ => State::Trailers(line + 1),
                };
                Ok(1)
            }
        }
    }

    fn size_line(&self) -> State {
        State::SizeLine {
            size: 0,
            digits: false,
            past_digits: false,
        }
    }

    fn size_byte(&mut self, byte: u8) -> Result<(), BadChunk> {
        let State::SizeLine {
            size,
            digits,
            past_digits,
        } = self.state
        else {
            return Ok(());
        };
        let digit = (byte as char).to_digit(16);
        self.state = match (byte, digit) {
            (b'\n', _) if !digits => return Err(BadChunk),
            (b'\n', _) if size == 0 => State::Trailers(0),
            (b'\n', _) => {
                let data_starts = self.seen + 1;
                self.first_chunk.get_or_insert((data_starts, size));
                State::Data(size)
            }
            (_, Some(d)) if !past_digits => State::SizeLine {
                size: size.checked_mul(16).ok_or(BadChunk)? + u64::from(d),
                digits: true,
                past_digits,
            },
            (_, _) if !digits => return Err(BadChunk),
            _ => State::SizeLine {
                size,
                digits,
                past_digits: true,
            },
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of(framing: Framing, bytes: &[u8]) -> (usize, bool) {
        let mut end = BodyEnd::new(framing);
        let used = end.scan(bytes).unwrap();
        (used, end.is_done())
    }

    #[test]
    fn a_length_body_ends_after_its_bytes() {
        assert_eq!(end_of(Framing::Length(4), b"abcdGET"), (4, true));
        assert_eq!(end_of(Framing::Length(10), b"abcd"), (4, false));
        assert_eq!(end_of(Framing::Empty, b"GET"), (0, true));
    }

    #[test]
    fn a_chunked_body_ends_after_its_last_chunk_and_trailers() {
        let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT";
        assert_eq!(end_of(Framing::Chunked, body), (body.len() - 4, true));
        assert_eq!(end_of(Framing::Chunked, b"0\r\n\r\n"), (5, true));
        let mut end = BodyEnd::new(Framing::Chunked);
        end.scan(body).unwrap();
        assert_eq!(end.first_chunk(), Some((9, 4)));
    }

    #[test]
    fn a_chunked_body_may_arrive_a_byte_at_a_time() {
        let body = b"a\r\n0123456789\r\n0\r\n\r\n";
        let mut end = BodyEnd::new(Framing::Chunked);
        for (i, byte) in body.iter().enumerate() {
            assert!(!end.is_done(), "done early at {i}");
            assert_eq!(end.scan(&[*byte]).unwrap(), 1);
        }
        assert!(end.is_done());
        assert_eq!(end.first_chunk(), Some((3, 10)));
    }

    #[test]
    fn a_broken_chunk_is_told_apart() {
        let mut end = BodyEnd::new(Framing::Chunked);
        assert_eq!(end.scan(b"zz\r\n"), Err(BadChunk));
        let mut end = BodyEnd::new(Framing::Chunked);
        assert_eq!(end.scan(b"2\r\nabXY"), Err(BadChunk));
        let mut end = BodyEnd::new(Framing::Chunked);
        assert_eq!(end.scan(b"ffffffffffffffffff\r\n"), Err(BadChunk));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let chunked = [
            ("Transfer-Encoding", "gzip, chunked"),
            ("Content-Length", "3"),
        ];
        assert_eq!(of_response("GET", 200, chunked), Framing::Chunked);
        assert_eq!(of_response("HEAD", 200, chunked), Framing::Empty);
        assert_eq!(
            of_response("GET", 304, [("Content-Length", "3")]),
            Framing::Empty
        );
        assert_eq!(
            of_response("GET", 200, [("content-length", "3")]),
            Framing::Length(3)
        );
        let conflicting = [("content-length", "3"), ("content-length", "4")];
        assert_eq!(of_response("GET", 200, conflicting), Framing::UntilClose);
        assert_eq!(of_response("GET", 200, []), Framing::UntilClose);
        assert_eq!(of_request([]), Framing::Empty);
        assert_eq!(
            of_request([("transfer-encoding", "chunked")]),
            Framing::Chunked
        );
    }
}
