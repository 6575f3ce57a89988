//! What the journal keeps of an HTTP/2 stream: its id, the frames a fault
//! sent on it or its connection, and the error codes those frames carry.

use std::fmt;
use std::str::FromStr;

/// An HTTP/2 error code (RFC 9113 §7), as RST_STREAM and GOAWAY frames carry
/// it. Written in kebab-case (`refused-stream`, `internal-error`); a code the
/// RFC does not name is written as its number. Read from either, or from the
/// RFC's own spelling (`REFUSED_STREAM`): `"cancel".parse()`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Http2Code(pub u32);

/// The codes RFC 9113 names, in the order of their numbers.
const NAMES: &[&str] = &[
    "no-error",
    "protocol-error",
    "internal-error",
    "flow-control-error",
    "settings-timeout",
    "stream-closed",
    "frame-size-error",
    "refused-stream",
    "cancel",
    "compression-error",
    "connect-error",
    "enhance-your-calm",
    "inadequate-security",
    "http-1-1-required",
];

impl Http2Code {
    /// NO_ERROR: a graceful shutdown.
    pub const NO_ERROR: Http2Code = Http2Code(0);
    /// PROTOCOL_ERROR.
    pub const PROTOCOL_ERROR: Http2Code = Http2Code(1);
    /// INTERNAL_ERROR.
    pub const INTERNAL_ERROR: Http2Code = Http2Code(2);
    /// REFUSED_STREAM: the stream was not processed, so it is safe to retry.
    pub const REFUSED_STREAM: Http2Code = Http2Code(7);
    /// FLOW_CONTROL_ERROR.
    pub const FLOW_CONTROL_ERROR: Http2Code = Http2Code(3);
    /// SETTINGS_TIMEOUT.
    pub const SETTINGS_TIMEOUT: Http2Code = Http2Code(4);
    /// STREAM_CLOSED.
    pub const STREAM_CLOSED: Http2Code = Http2Code(5);
    /// FRAME_SIZE_ERROR.
    pub const FRAME_SIZE_ERROR: Http2Code = Http2Code(6);
    /// CANCEL: the stream is no longer needed.
    pub const CANCEL: Http2Code = Http2Code(8);
    /// COMPRESSION_ERROR.
    pub const COMPRESSION_ERROR: Http2Code = Http2Code(9);
    /// CONNECT_ERROR.
    pub const CONNECT_ERROR: Http2Code = Http2Code(10);
    /// ENHANCE_YOUR_CALM: the peer is causing too much load.
    pub const ENHANCE_YOUR_CALM: Http2Code = Http2Code(11);
    /// INADEQUATE_SECURITY.
    pub const INADEQUATE_SECURITY: Http2Code = Http2Code(12);
    /// HTTP_1_1_REQUIRED: the client should retry over HTTP/1.1.
    pub const HTTP_1_1_REQUIRED: Http2Code = Http2Code(13);

    /// Its name in kebab-case, when RFC 9113 names it.
    pub fn name(self) -> Option<&'static str> {
        NAMES.get(self.0 as usize).copied()
    }

    /// The names a code may be given by, for error messages.
    pub(crate) fn names() -> String {
        NAMES.join(", ")
    }
}

impl fmt::Debug for Http2Code {
    /// `Http2Code(7 refused-stream)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Http2Code({} {name})", self.0),
            None => write!(f, "Http2Code({})", self.0),
        }
    }
}

impl fmt::Display for Http2Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A string that names no HTTP/2 error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown HTTP/2 error code {0:?}{hint}; expected a number or one of {names}", hint = nearest_code(.0), names = Http2Code::names())]
pub struct UnknownCode(pub String);

/// "; did you mean …?" for a name close to a code's.
fn nearest_code(name: &str) -> String {
    let name = kebab(name);
    // A code named in part (`refused`) is a likely slip too.
    let part = || {
        let mut named = NAMES
            .iter()
            .filter(|n| name.len() >= 4 && n.contains(&name));
        named.next().filter(|_| named.next().is_none()).copied()
    };
    crate::words::nearest(&name, NAMES.iter().copied())
        .or_else(part)
        .map(|n| format!("; did you mean {n:?}?"))
        .unwrap_or_default()
}

/// `REFUSED_STREAM` as `refused-stream`.
fn kebab(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

impl FromStr for Http2Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, UnknownCode> {
        let name = kebab(s);
        if let Some(position) = NAMES.iter().position(|known| *known == name) {
            return Ok(Http2Code(position as u32));
        }
        let number = match s.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => s.parse(),
        };
        number.map(Http2Code).map_err(|_| UnknownCode(s.to_owned()))
    }
}

impl serde::Serialize for Http2Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Http2Code {
    /// A name (`"cancel"`), a number as text (`"0x8"`), or a number (`8`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = Http2Code;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "an HTTP/2 error code: a number or one of {}",
                    Http2Code::names()
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Http2Code, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Http2Code, E> {
                u32::try_from(n)
                    .map(Http2Code)
                    .map_err(|_| E::custom(format!("HTTP/2 error code {n} is past 2^32-1")))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Http2Code, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(format!("HTTP/2 error code {n} is negative")))
                    .and_then(|n| self.visit_u64(n))
            }
        }
        deserializer.deserialize_any(CodeVisitor)
    }
}

/// A frame a fault sent beyond a stream's HEADERS and DATA.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "frame")]
#[non_exhaustive]
pub enum Http2Frame {
    /// RST_STREAM on this stream, with its code.
    RstStream {
        /// The error code.
        code: Http2Code,
    },
    /// GOAWAY on the connection: streams above `last_stream_id` were not
    /// processed.
    GoAway {
        /// The last stream the server says it processed (0: none).
        last_stream_id: u32,
        /// The error code.
        code: Http2Code,
    },
    /// A frame no HTTP/2 peer may accept, in words.
    Garbage {
        /// What is wrong with it.
        what: String,
    },
}

impl fmt::Display for Http2Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Http2Frame::RstStream { code } => write!(f, "RST_STREAM({code})"),
            Http2Frame::GoAway {
                last_stream_id,
                code,
            } => write!(f, "GOAWAY(last-stream-id {last_stream_id}, {code})"),
            Http2Frame::Garbage { what } => write!(f, "garbage frame ({what})"),
        }
    }
}

/// The HTTP/2 stream an attempt was: over HTTP/2 each stream is an attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Http2Stream {
    /// The stream's id on its connection (1, 3, 5 ... for a client's streams).
    pub id: u32,
    /// The frames the fault sent on the stream or its connection while the
    /// stream was open, beyond HEADERS and DATA.
    pub frames_sent: Vec<Http2Frame>,
    /// The code of the client's RST_STREAM, when the client reset the stream.
    pub reset_by_client: Option<Http2Code>,
}

impl Http2Stream {
    /// Stream `id`, as it opens: no frame sent yet, not reset.
    pub(crate) fn new(id: u32) -> Http2Stream {
        Http2Stream {
            id,
            frames_sent: Vec::new(),
            reset_by_client: None,
        }
    }
}

impl fmt::Display for Http2Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream {}", self.id)?;
        for frame in &self.frames_sent {
            write!(f, ", sent {frame}")?;
        }
        if let Some(code) = self.reset_by_client {
            write!(f, ", client sent RST_STREAM({code})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_by_name_or_number_and_print_by_name() {
        assert_eq!("refused-stream".parse(), Ok(Http2Code::REFUSED_STREAM));
        assert_eq!("8".parse(), Ok(Http2Code::CANCEL));
        assert_eq!(
            "0xb".parse::<Http2Code>().unwrap().to_string(),
            "enhance-your-calm"
        );
        assert_eq!(Http2Code(0x1f).to_string(), "31");
        assert_eq!("REFUSED_STREAM".parse(), Ok(Http2Code::REFUSED_STREAM));
        let error = "refused".parse::<Http2Code>().unwrap_err().to_string();
        assert!(
            error.contains("did you mean \"refused-stream\"?"),
            "{error}"
        );
        assert!(error.contains("no-error, protocol-error"), "{error}");
        assert_eq!(format!("{:?}", Http2Code::CANCEL), "Http2Code(8 cancel)");
    }
}
