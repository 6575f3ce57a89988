//! `ErrorClass`, the neutral taxonomy of client failures, and `classify`,
//! which places a reqwest error in it.
//!
//! Every client names its failures differently: requests raises
//! `ConnectTimeout`, curl exits 28, reqwest sets `is_connect` and
//! `is_timeout`. `ErrorClass` is the one vocabulary they all map to, so a
//! scenario can say "this must be a reset" whatever the client.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::str::FromStr;

use crate::journal::Http2Code;

/// What went wrong with a TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsKind {
    /// The certificate chain is not trusted (self-signed, unknown CA).
    Untrusted,
    /// The certificate is outside its validity window: expired, or not yet valid.
    Expired,
    /// The certificate does not name the host.
    Hostname,
    /// The peer does not speak TLS properly.
    Protocol,
    /// The handshake did not finish in time.
    HandshakeTimeout,
}

/// A failure, named the same way whatever the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Nothing listens on the port (`ECONNREFUSED`).
    Refused,
    /// The TCP handshake did not complete in time.
    ConnectTimeout,
    /// The host name did not resolve.
    Dns,
    /// The peer reset the connection (`ECONNRESET`).
    Reset,
    /// The connection closed before a complete response head arrived.
    EmptyReply,
    /// A read stalled past the client's read timeout.
    ReadTimeout,
    /// An overall deadline passed, and the client cannot say where it stalled.
    Timeout,
    /// The connection closed before the body was complete.
    IncompleteBody,
    /// The bytes received are not a valid HTTP response.
    MalformedResponse,
    /// TLS failed.
    Tls(TlsKind),
    /// The server answered with an error status the client turned into an error.
    HttpStatus(u16),
    /// The client followed too many redirects.
    TooManyRedirects,
    /// Over HTTP/2, the server refused the stream (RST_STREAM with
    /// REFUSED_STREAM): the request was not processed, so it is safe to retry.
    StreamRefused,
    /// Over HTTP/2, the server reset the stream (RST_STREAM) with this code.
    StreamReset(Http2Code),
    /// Over HTTP/2, the server's GOAWAY said the stream was not processed.
    GoAway,
    /// The body arrived but could not be decoded.
    Decode,
    /// The URL could not be used.
    InvalidUrl,
    /// Anything else.
    Other,
}

const PLAIN: &[(&str, ErrorClass)] = &[
    ("refused", ErrorClass::Refused),
    ("connect-timeout", ErrorClass::ConnectTimeout),
    ("dns", ErrorClass::Dns),
    ("reset", ErrorClass::Reset),
    ("empty-reply", ErrorClass::EmptyReply),
    ("read-timeout", ErrorClass::ReadTimeout),
    ("timeout", ErrorClass::Timeout),
    ("incomplete-body", ErrorClass::IncompleteBody),
    ("malformed-response", ErrorClass::MalformedResponse),
    ("too-many-redirects", ErrorClass::TooManyRedirects),
    ("stream-refused", ErrorClass::StreamRefused),
    ("goaway", ErrorClass::GoAway),
    ("decode", ErrorClass::Decode),
    ("invalid-url", ErrorClass::InvalidUrl),
    ("other", ErrorClass::Other),
];

const TLS: &[(&str, TlsKind)] = &[
    ("untrusted", TlsKind::Untrusted),
    ("expired", TlsKind::Expired),
    ("hostname", TlsKind::Hostname),
    ("protocol", TlsKind::Protocol),
    ("handshake-timeout", TlsKind::HandshakeTimeout),
];

impl fmt::Display for ErrorClass {
    /// `reset`, `http-status(503)`, `tls(expired)`: the form scenario files use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorClass::HttpStatus(code) => write!(f, "http-status({code})"),
            ErrorClass::StreamReset(code) => write!(f, "stream-reset({code})"),
            ErrorClass::Tls(kind) => {
                let name = TLS.iter().find(|(_, k)| k == kind).map_or("?", |(n, _)| n);
                write!(f, "tls({name})")
            }
            class => f.write_str(
                PLAIN
                    .iter()
                    .find(|(_, c)| c == class)
                    .map_or("?", |(n, _)| n),
            ),
        }
    }
}

/// A string that names no error class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error class {0:?}{hint}; expected one of {list}, http-status(CODE), stream-reset(HTTP/2 CODE) or tls(KIND)", hint = nearest_class(.0), list = PLAIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
pub struct UnknownClass(pub String);

/// "; did you mean …?" for a class name close to a known one.
fn nearest_class(name: &str) -> String {
    let tls = TLS.iter().map(|(kind, _)| format!("tls({kind})"));
    let known: Vec<String> = PLAIN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain(tls)
        .collect();
    crate::words::nearest(name, known.iter().map(String::as_str))
        .map(|n| format!("; did you mean {n:?}?"))
        .unwrap_or_default()
}

impl FromStr for ErrorClass {
    type Err = UnknownClass;

    fn from_str(s: &str) -> Result<Self, UnknownClass> {
        let unknown = || UnknownClass(s.to_owned());
        if let Some((_, class)) = PLAIN.iter().find(|(n, _)| *n == s) {
            return Ok(*class);
        }
        let argument = |prefix: &str| {
            s.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(')'))
        };
        if let Some(code) = argument("http-status(") {
            return code
                .parse()
                .map(ErrorClass::HttpStatus)
                .map_err(|_| unknown());
        }
        if let Some(code) = argument("stream-reset(") {
            return code
                .parse()
                .map(ErrorClass::StreamReset)
                .map_err(|_| unknown());
        }
        if let Some(kind) = argument("tls(") {
            return TLS
                .iter()
                .find(|(n, _)| *n == kind)
                .map(|(_, k)| ErrorClass::Tls(*k))
                .ok_or_else(unknown);
        }
        Err(unknown())
    }
}

impl serde::Serialize for ErrorClass {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ErrorClass {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Places a reqwest error in the neutral taxonomy.
///
/// The decision uses reqwest's predicates and the types in the error's source
/// chain (`io::ErrorKind`, hyper's predicates, `rustls::Error`), in this
/// order: status, redirects, URL, timeouts, TLS, then the chain.
///
/// TLS failures come from the `rustls::Error` in the chain: a certificate
/// outside its validity window, expired or not yet valid, is
/// [`TlsKind::Expired`]; one that does not name the host is
/// [`TlsKind::Hostname`]; any other certificate rustls rejects (unknown
/// issuer, self-signed) is [`TlsKind::Untrusted`]; the rest, such as plain
/// HTTP bytes where a TLS record should be, is [`TlsKind::Protocol`], and so
/// is a connection closed during the handshake. A stalled handshake counts
/// against reqwest's connect timeout, so it is
/// [`ErrorClass::ConnectTimeout`], like a stalled TCP connect.
///
/// reqwest raises the same error for its read timeout and its total timeout,
/// from the same places, so both are [`ErrorClass::Timeout`]; only a timeout
/// during connect can be told apart ([`ErrorClass::ConnectTimeout`]).
/// Errors while reading a body arrive as decode errors wrapping body errors;
/// they are classified by what the body error holds.
///
/// It takes the `reqwest::Error` of reqwest 0.13, the version outage depends
/// on; a client built with another major version of reqwest has another
/// `Error` type, which does not type-check here.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use outage::{ErrorClass, Fault, FaultServer, classify};
///
/// let server = FaultServer::start(Fault::reset()).await?;
/// let error = reqwest::get(server.url()).await.unwrap_err();
/// assert_eq!(classify(&error), ErrorClass::Reset);
/// # Ok(()) }
/// ```
pub fn classify(error: &reqwest::Error) -> ErrorClass {
    if let Some(status) = error.status() {
        return ErrorClass::HttpStatus(status.as_u16());
    }
    if error.is_redirect() {
        return ErrorClass::TooManyRedirects;
    }
    if error.is_builder() {
        return ErrorClass::InvalidUrl;
    }
    if error.is_timeout() {
        return if error.is_connect() {
            ErrorClass::ConnectTimeout
        } else {
            ErrorClass::Timeout
        };
    }
    if let Some(kind) = tls_failure(error) {
        return ErrorClass::Tls(kind);
    }
    if error.is_decode() && !from_hyper(error) {
        // The bytes arrived whole but the decoder (gzip and the like) refused
        // them; a body that broke on the wire carries hyper's error instead.
        return ErrorClass::Decode;
    }
    let in_body = error.is_body() || error.is_decode();
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(class) = classify_cause(cause, in_body) {
            return class;
        }
        source = cause.source();
    }
    if error.is_decode() {
        ErrorClass::Decode
    } else {
        ErrorClass::Other
    }
}

/// The TLS failure in `error`'s chain, if there is one.
fn tls_failure(error: &reqwest::Error) -> Option<TlsKind> {
    let mut source = error.source();
    while let Some(cause) = source {
        for inner in wrapped(cause) {
            if let Some(rustls) = inner.downcast_ref::<rustls::Error>() {
                return Some(tls_kind(rustls));
            }
            // Only a TLS handshake reads while connecting: an end of stream
            // then is the server closing in the middle of the handshake.
            if error.is_connect()
                && inner
                    .downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof)
            {
                return Some(TlsKind::Protocol);
            }
        }
        source = cause.source();
    }
    None
}

/// `cause` and the errors wrapped inside it, when it is an `io::Error`:
/// `io::Error::source` skips the error it wraps, so the chain alone never
/// shows the `rustls::Error` that tokio-rustls wraps in one.
fn wrapped<'a>(
    cause: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(cause), |e| {
        let io = e.downcast_ref::<io::Error>()?;
        io.get_ref().map(|inner| inner as &(dyn StdError + 'static))
    })
}

fn tls_kind(error: &rustls::Error) -> TlsKind {
    use rustls::CertificateError as Cert;
    match error {
        rustls::Error::InvalidCertificate(
            Cert::Expired
            | Cert::ExpiredContext { .. }
            | Cert::NotValidYet
            | Cert::NotValidYetContext { .. },
        ) => TlsKind::Expired,
        rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        ) => TlsKind::Hostname,
        rustls::Error::InvalidCertificate(_) => TlsKind::Untrusted,
        _ => TlsKind::Protocol,
    }
}

/// True when a `hyper::Error` is among the causes of `error`.
fn from_hyper(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.is::<hyper::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

fn classify_cause(cause: &(dyn StdError + 'static), in_body: bool) -> Option<ErrorClass> {
    if let Some(io) = cause.downcast_ref::<io::Error>() {
        return match io.kind() {
            io::ErrorKind::ConnectionRefused => Some(ErrorClass::Refused),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Some(ErrorClass::Reset),
            io::ErrorKind::TimedOut => Some(ErrorClass::Timeout),
            // hyper reports a body cut short as UnexpectedEof, and a broken
            // chunk-size line as InvalidInput or InvalidData.
            io::ErrorKind::UnexpectedEof if in_body => Some(ErrorClass::IncompleteBody),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData if in_body => {
                Some(ErrorClass::MalformedResponse)
            }
            _ => None,
        };
    }
    if let Some(h2) = cause.downcast_ref::<h2::Error>() {
        return http2_class(h2);
    }
    if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
        if hyper.is_parse() || hyper.is_parse_status() || hyper.is_parse_too_large() {
            return Some(ErrorClass::MalformedResponse);
        }
        if hyper.is_incomplete_message() {
            return Some(if in_body {
                ErrorClass::IncompleteBody
            } else {
                ErrorClass::EmptyReply
            });
        }
    }
    // hyper-util's connect error type is private and a failed lookup carries
    // no typed cause of its own, so only the connector's message tells DNS
    // failures apart, unless the resolver was outage's own.
    if cause.is::<crate::dns::LookupFailed>() || cause.to_string() == "dns error" {
        return Some(ErrorClass::Dns);
    }
    None
}

/// The class of an HTTP/2 error: what the server's RST_STREAM or GOAWAY
/// said, or a frame the client's HTTP/2 could not accept.
fn http2_class(error: &h2::Error) -> Option<ErrorClass> {
    let reason = error.reason()?;
    if error.is_remote() && error.is_reset() {
        return Some(match reason {
            h2::Reason::REFUSED_STREAM => ErrorClass::StreamRefused,
            reason => ErrorClass::StreamReset(Http2Code(u32::from(reason))),
        });
    }
    if error.is_remote() && error.is_go_away() {
        return Some(ErrorClass::GoAway);
    }
    // The client's own HTTP/2 refused what the server sent.
    (error.is_library() && reason != h2::Reason::NO_ERROR).then_some(ErrorClass::MalformedResponse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_class_close_to_a_known_one_is_suggested() {
        let error = "incomplete-bdy"
            .parse::<ErrorClass>()
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("unknown error class \"incomplete-bdy\"; did you mean \"incomplete-body\"?; expected one of refused"),
            "{error}"
        );
        let error = "tls(expird)".parse::<ErrorClass>().unwrap_err().to_string();
        assert!(error.contains("did you mean \"tls(expired)\"?"), "{error}");
        let error = "nothing-like-it"
            .parse::<ErrorClass>()
            .unwrap_err()
            .to_string();
        assert!(!error.contains("did you mean"), "{error}");
    }

    #[test]
    fn every_class_round_trips_through_its_name() {
        let mut classes: Vec<ErrorClass> = PLAIN.iter().map(|(_, c)| *c).collect();
        classes.extend(TLS.iter().map(|(_, k)| ErrorClass::Tls(*k)));
        classes.push(ErrorClass::HttpStatus(503));
        classes.push(ErrorClass::StreamReset(Http2Code::CANCEL));
        classes.push(ErrorClass::StreamReset(Http2Code(99)));
        for class in classes {
            assert_eq!(class.to_string().parse::<ErrorClass>(), Ok(class));
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let error = "nothing-like-it".parse::<ErrorClass>().unwrap_err();
        assert!(error.to_string().starts_with(
            "unknown error class \"nothing-like-it\"; expected one of refused, connect-timeout"
        ));
    }
}
