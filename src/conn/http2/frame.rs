//! HTTP/2 frames written by hand (RFC 9113 §4.1): a 9-byte header, then the
//! payload. Only the frames the `h2` crate will not write for a fault: a
//! GOAWAY with a chosen last-stream-id, an empty SETTINGS, broken frames.

use bytes::{BufMut, Bytes, BytesMut};

use crate::journal::Http2Code;

/// What a client sends first on an HTTP/2 connection.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The length of a frame header.
pub(crate) const HEADER_LEN: usize = 9;

pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;

/// The ACK flag of SETTINGS and PING.
pub(crate) const ACK: u8 = 0x1;

/// The largest length a frame header can state (2^24 - 1).
pub(crate) const MAX_LENGTH: u32 = (1 << 24) - 1;

/// A frame header, read from the first [`HEADER_LEN`] bytes of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) length: u32,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) stream: u32,
}

impl Header {
    pub(crate) fn parse(bytes: &[u8; HEADER_LEN]) -> Header {
        Header {
            length: u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]),
            kind: bytes[3],
            flags: bytes[4],
            stream: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & !(1 << 31),
        }
    }

    /// True for a PING that answers one of the peer's.
    pub(crate) fn is_ping_ack(&self) -> bool {
        self.kind == PING && self.flags & ACK != 0
    }
}

/// A frame of `kind` with `payload`, whose header states `length` (the
/// payload's own length for a well-formed frame).
fn frame_stating(length: u32, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(HEADER_LEN + payload.len());
    frame.put_slice(&length.to_be_bytes()[1..]);
    frame.put_u8(kind);
    frame.put_u8(flags);
    frame.put_u32(stream & !(1 << 31));
    frame.put_slice(payload);
    frame.freeze()
}

/// A well-formed frame.
pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Bytes {
    let length = u32::try_from(payload.len()).expect("hand-written frames are small");
    frame_stating(length, kind, flags, stream, payload)
}

/// A GOAWAY saying that streams above `last_stream_id` were not processed.
pub(crate) fn go_away(last_stream_id: u32, code: Http2Code) -> Bytes {
    let mut payload = [0; 8];
    payload[..4].copy_from_slice(&(last_stream_id & !(1 << 31)).to_be_bytes());
    payload[4..].copy_from_slice(&code.0.to_be_bytes());
    frame(GOAWAY, 0, 0, &payload)
}

/// A SETTINGS frame that changes nothing: the server's side of the preface.
pub(crate) fn empty_settings() -> Bytes {
    frame(SETTINGS, 0, 0, &[])
}

/// A PING whose payload is 7 bytes, not 8: a FRAME_SIZE_ERROR.
pub(crate) fn ping_of_wrong_length() -> Bytes {
    frame(PING, 0, 0, &[0; 7])
}

/// DATA on stream 0, which only carries frames about the connection: a
/// PROTOCOL_ERROR.
pub(crate) fn data_on_stream_zero() -> Bytes {
    frame(DATA, 0, 0, b"outage")
}

/// A header stating the longest length a frame can have, more than any
/// peer allows before it raises its SETTINGS_MAX_FRAME_SIZE (16,384 unless
/// raised): a FRAME_SIZE_ERROR. Only the header and a few bytes follow.
pub(crate) fn oversized() -> Bytes {
    frame_stating(MAX_LENGTH, PING, 0, 0, &[0; 8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(frame: &[u8]) -> Header {
        Header::parse(frame[..HEADER_LEN].try_into().unwrap())
    }

    #[test]
    fn a_goaway_carries_its_last_stream_id_and_code() {
        let frame = go_away(5, Http2Code::REFUSED_STREAM);
        assert_eq!(
            &frame[..],
            [0, 0, 8, GOAWAY, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 7]
        );
        let header = header_of(&frame);
        assert_eq!((header.length, header.kind, header.stream), (8, GOAWAY, 0));
    }

    #[test]
    fn the_broken_frames_break_what_they_say() {
        assert_eq!(header_of(&ping_of_wrong_length()).length, 7);
        let data = header_of(&data_on_stream_zero());
        assert_eq!((data.kind, data.stream), (DATA, 0));
        assert_eq!(header_of(&oversized()).length, MAX_LENGTH);
        assert_eq!(&empty_settings()[..], [0, 0, 0, SETTINGS, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_ping_ack_is_told_from_a_ping() {
        let ack = header_of(&frame(PING, ACK, 0, &[0; 8]));
        assert!(ack.is_ping_ack());
        assert!(!header_of(&frame(PING, 0, 0, &[0; 8])).is_ping_ack());
        // The reserved bit of the stream id is not part of it.
        assert_eq!(
            header_of(&frame(DATA, 0, u32::MAX, &[])).stream,
            (1 << 31) - 1
        );
    }
}
