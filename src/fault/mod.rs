//! `Fault`: the vocabulary of failures, one variant per kind, one module per fault.
//!
//! Faults come in three families, each applied at a different point:
//!
//! - **listener faults** (`refuse`, `blackhole`, `wrong-port`) shape the
//!   listening socket itself, so the kernel fails the connection before the
//!   server ever sees it;
//! - **responders** (`ok`, `status`, `slow-headers`, `drip`, `redirect-loop`,
//!   `redirect-chain`, `bad-encoding`) answer with a response served by hyper,
//!   and keep the connection alive;
//! - **transport faults** (everything else) take over the raw connection after
//!   accepting it, misbehave on the wire, and end the connection;
//! - **TLS faults** (`tls-*`) serve `https`: the certificate faults complete
//!   the handshake with a certificate that is wrong in one way (or, for
//!   `tls-ok`, right) and then answer like `ok`; `tls-plaintext`,
//!   `tls-handshake-stall` and `tls-handshake-drop` take over the raw
//!   connection before any handshake. Any other fault can run behind TLS
//!   (`Tls` says how each connection meets it).
//!
//! A `sequence` picks one of these per attempt, and `routes` one per request
//! path, after hyper has read the request head. The names in the TOML files and
//! on the command line are the variant names in kebab-case.
//!
//! Adding a fault touches three files: its leaf (`src/fault/NAME.rs`: the
//! struct with its defaults, its `FaultLeaf` impl, how it acts, a
//! constructor named after it, and its unit tests); this file (its `mod`
//! and `pub use` lines and one entry in `faults!`, which generates the
//! variant, the catalogue entry, the name, the option names and the
//! dispatch); and its section in the README, which a test requires. Test
//! lists, the command line's options and the fuzz dictionary's fault words
//! all come from the catalogue.

mod bad_chunk;
mod bad_encoding;
mod bandwidth;
mod blackhole;
mod bulk;
mod chance;
mod conflicting_length;
mod cut_chunk;
mod drip;
mod empty_reply;
mod garbage;
mod h2_garbage_frame;
mod h2_goaway;
mod h2_max_streams;
mod h2_ping_silence;
mod h2_refused_stream;
mod h2_reset_stream;
mod h2_settings_stall;
mod h2_window_stall;
mod hang;
mod hang_on_accept;
mod httpbin;
mod limit_data;
#[cfg(test)]
pub(crate) mod mock;
mod ok;
mod parts;
mod redirect_chain;
mod redirect_loop;
mod refuse;
mod reset;
mod routes;
mod sequence;
mod shape;
mod slicer;
mod slow_close;
mod slow_headers;
mod status;
mod tls_expired;
mod tls_handshake_drop;
mod tls_handshake_stall;
mod tls_not_yet_valid;
mod tls_ok;
mod tls_plaintext;
mod tls_self_signed;
mod tls_untrusted_ca;
mod tls_wrong_host;
mod truncate;
mod wrong_port;

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::Full;
use http_body_util::combinators::BoxBody;
use serde::{Deserialize, Serialize};
use socket2::Socket;

pub use bad_chunk::BadChunk;
pub use bad_encoding::BadEncoding;
pub use bandwidth::Bandwidth;
pub use blackhole::Blackhole;
pub use chance::Chance;
pub use conflicting_length::ConflictingLength;
pub use cut_chunk::CutChunk;
pub use drip::Drip;
pub use empty_reply::EmptyReply;
pub use garbage::Garbage;
pub use h2_garbage_frame::{GarbageFrame, H2GarbageFrame};
pub use h2_goaway::{GoawayClose, H2Goaway};
pub use h2_max_streams::H2MaxStreams;
pub use h2_ping_silence::H2PingSilence;
pub use h2_refused_stream::H2RefusedStream;
pub use h2_reset_stream::{H2ResetStream, StreamResetWhen};
pub use h2_settings_stall::{H2SettingsStall, Withhold};
pub use h2_window_stall::H2WindowStall;
pub use hang::Hang;
pub use hang_on_accept::HangOnAccept;
pub use limit_data::LimitData;
pub use ok::Healthy;
pub use redirect_chain::RedirectChain;
pub use redirect_loop::RedirectLoop;
pub use refuse::Refuse;
pub use reset::{Reset, ResetWhen};
pub use routes::{Route, Routes};
pub use sequence::Sequence;
pub use slicer::Slicer;
pub use slow_close::SlowClose;
pub use slow_headers::SlowHeaders;
pub use status::Status;
pub use tls_expired::TlsExpired;
pub use tls_handshake_drop::TlsHandshakeDrop;
pub use tls_handshake_stall::TlsHandshakeStall;
pub use tls_not_yet_valid::TlsNotYetValid;
pub use tls_ok::TlsOk;
pub use tls_plaintext::TlsPlaintext;
pub use tls_self_signed::TlsSelfSigned;
pub use tls_untrusted_ca::TlsUntrustedCa;
pub use tls_wrong_host::TlsWrongHost;
pub use truncate::Truncate;
pub use wrong_port::WrongPort;

use crate::conn::Exchange;
use crate::conn::http2::StreamExchange;
use crate::journal::Ending;
use crate::request::RequestHead;
use crate::tls::Leaf;
pub(crate) use shape::{Cut, Pace, Shape, time_at_rate};

/// A future boxed so that fault families can be trait objects.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The body responders answer with: bytes known whole, as most answers
/// are, kept as they are; any other body boxed.
pub(crate) enum Body {
    Whole(Full<Bytes>),
    Boxed(BoxBody<Bytes, Infallible>),
}

impl Body {
    pub(crate) fn whole(bytes: impl Into<Bytes>) -> Body {
        Body::Whole(Full::new(bytes.into()))
    }

    pub(crate) fn boxed(
        body: impl hyper::body::Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
    ) -> Body {
        Body::Boxed(BoxBody::new(body))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Whole(body) => Pin::new(body).poll_frame(cx),
            Body::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Whole(body) => body.is_end_stream(),
            Body::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Whole(body) => body.size_hint(),
            Body::Boxed(body) => body.size_hint(),
        }
    }
}

/// A fault that answers with a well-formed HTTP response, served by hyper.
pub(crate) trait Respond: Send + Sync {
    /// What the answer to the request `head` will be, in words, journaled
    /// before it is sent; it depends on nothing else, so it can be told
    /// before the attempt is journaled.
    fn action(&self, head: &RequestHead) -> Cow<'static, str>;

    /// The answer to `request`; it may take its time.
    fn respond<'a>(&'a self, request: &'a Request<'a>) -> Answer<'a>;
}

/// A responder's answer: ready at once, or a future for one that takes its
/// time. Awaiting it gives the response; one ready at once costs no box.
pub(crate) enum Answer<'a> {
    Now(Option<http::Response<Body>>),
    Later(BoxFuture<'a, http::Response<Body>>),
}

impl<'a> Answer<'a> {
    pub(crate) fn now(response: http::Response<Body>) -> Self {
        Answer::Now(Some(response))
    }

    pub(crate) fn later(response: impl Future<Output = http::Response<Body>> + Send + 'a) -> Self {
        Answer::Later(Box::pin(response))
    }
}

impl Future for Answer<'_> {
    type Output = http::Response<Body>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Now(response) => {
                Poll::Ready(response.take().expect("an answer is awaited only once"))
            }
            Answer::Later(response) => response.as_mut().poll(cx),
        }
    }
}

/// A request as a responder sees it: its head, and which attempt it is.
pub(crate) struct Request<'a> {
    /// The request line and headers.
    pub(crate) head: &'a RequestHead,
    /// The attempt's index on the server; random answers draw from it, so a
    /// run replays.
    pub(crate) attempt: u64,
    /// The client's address.
    pub(crate) peer: SocketAddr,
}

/// A fault that takes over the raw connection and ends it.
pub(crate) trait Misbehave: Send + Sync {
    /// Misbehaves on `exchange` and says how the connection ended.
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending>;
}

/// A fault that acts on one HTTP/2 stream, and through it may act on the
/// stream's connection.
pub(crate) trait StreamFault: Send + Sync {
    /// The SETTINGS of a connection whose first stream meets this fault.
    fn settings(&self) -> Http2Settings {
        Http2Settings::default()
    }

    /// Acts on `stream`.
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted>;
}

/// What a [`StreamFault`] did with its stream.
pub(crate) enum Acted {
    /// It ended the stream.
    Ended(Ending),
    /// It leaves the stream to be answered like `ok`.
    AnswerOk,
}

/// The SETTINGS a server's side of an HTTP/2 connection starts with, beyond
/// the `h2` crate's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Http2Settings {
    pub(crate) max_concurrent_streams: Option<u32>,
    pub(crate) initial_window_size: Option<u32>,
}

/// What each fault's own type says about itself: how the server meets it,
/// and the checks and facts the enum asks of it. Every method but `handling`
/// has a default, so a new fault implements only what it needs; the enum's
/// dispatch to it is generated from the `faults!` table.
pub(crate) trait FaultLeaf {
    /// How an attempt meets this fault.
    fn handling(&self) -> Handling<'_>;

    /// Checks parameters that the types alone cannot.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// The seed of its randomness, when it has any.
    fn seed(&self) -> Option<u64> {
        None
    }

    /// The certificate it presents itself, for the certificate faults.
    fn presents(&self) -> Option<Leaf> {
        None
    }

    /// What it does to an upstream's real response, when the server is a
    /// proxy; `None` for a fault that answers in the upstream's place.
    fn shape(&self) -> Option<Shape> {
        // The certificate faults answer like `ok` once the handshake is done.
        self.presents().map(|_| Shape::PASS)
    }

    /// True for the TLS faults that never complete a handshake.
    fn breaks_handshake(&self) -> bool {
        false
    }

    /// True when it acts on a connection before a request could be read.
    fn acts_before_request(&self) -> bool {
        self.breaks_handshake()
    }

    /// True when it, or any fault it may apply, is in the TLS family.
    fn is_tls(&self) -> bool {
        self.presents().is_some() || self.breaks_handshake()
    }

    /// True when it, or any fault it may apply, acts on HTTP/2.
    fn is_http2(&self) -> bool {
        matches!(self.handling(), Handling::Stream(_))
    }
}

/// How one attempt is handled once a fault is chosen for it.
pub(crate) enum Handling<'a> {
    Respond(&'a dyn Respond),
    Misbehave(&'a dyn Misbehave),
    /// Chosen from the request's path, so the request head is read first.
    Route(&'a Routes),
    /// Handled by the listening socket; no connection ever reaches the server.
    Listener(&'a dyn Listen),
    /// One of several faults, picked per attempt (`sequence`, `chance`).
    Pick(&'a dyn Pick),
    /// Acts on an HTTP/2 stream.
    Stream(&'a dyn StreamFault),
}

/// A fault made by the listening socket itself: the kernel fails each
/// connection before the server could see it.
pub(crate) trait Listen: Send + Sync {
    /// Makes the fault of `socket`, bound to the URL's address and not yet
    /// listening; returns every socket that must stay open as long as the
    /// fault.
    fn listen(&self, socket: Socket) -> std::io::Result<Vec<Socket>>;

    /// A healthy server to run beside it, which the URL does not point at.
    fn beside(&self) -> Option<Fault> {
        None
    }
}

/// A fault that stands for one of several others, picked per attempt.
pub(crate) trait Pick: Send + Sync {
    /// The fault for the attempt with this index (counted on the server, or
    /// on the route).
    fn pick(&self, attempt: u64) -> &Fault;
}

/// How a connection meets TLS before its fault acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tls {
    /// No TLS on the server's side: the fault sees the client's bytes as
    /// they come, a ClientHello included.
    Raw,
    /// The server completes a TLS handshake presenting this certificate, and
    /// the fault acts inside the encrypted stream.
    Present(Leaf),
}

/// The answer of the certificate faults once a handshake succeeds: `ok`'s.
pub(crate) static HEALTHY: LazyLock<Healthy> = LazyLock::new(Healthy::default);

/// A fault's name and what it does, as listed by `outage list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultInfo {
    /// The name used in scenario files and on the command line.
    pub name: &'static str,
    /// What happens on the wire.
    pub wire: &'static str,
    /// What clients typically report.
    pub clients: &'static str,
    /// How client code should handle it.
    pub handle: &'static str,
}

macro_rules! faults {
    ($($(#[$extra:meta])* $variant:ident($ty:ty) = $name:literal, wire: $wire:literal, clients: $clients:literal, handle: $handle:literal;)*) => {
        /// A failure a [`FaultServer`](crate::FaultServer) produces on demand.
        ///
        /// Every fault has defaults for all of its parameters, so
        /// `{ kind = "reset" }` in a scenario file or `outage serve reset` on the
        /// command line is complete. In TOML a bare name such as `"reset"` also
        /// stands for the fault with its defaults.
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
        #[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
        #[non_exhaustive]
        pub enum Fault {
            $(
                #[doc = $wire]
                #[doc = ""]
                #[doc = concat!("Clients: ", $clients)]
                #[doc = ""]
                #[doc = concat!("Handling: ", $handle)]
                $(#[$extra])*
                $variant($ty),
            )*
        }

        /// Every fault, in the order `outage list` shows them.
        pub const CATALOGUE: &[FaultInfo] = &[
            $(FaultInfo { name: $name, wire: $wire, clients: $clients, handle: $handle },)*
        ];

        impl Fault {
            /// The fault's name in kebab-case, as in scenario files and on the command line.
            pub fn name(&self) -> &'static str {
                match self { $(Fault::$variant(_) => $name,)* }
            }
        }

        $(
            impl From<$ty> for Fault {
                fn from(fault: $ty) -> Fault {
                    Fault::$variant(fault)
                }
            }
        )*

        impl Fault {
            /// The fault's own type, which says how it acts.
            fn leaf(&self) -> &dyn FaultLeaf {
                match self { $(Fault::$variant(fault) => fault,)* }
            }
        }

        /// The parameter names of the fault called `name` (its TOML keys
        /// besides `kind`), or `None` for an unknown name.
        pub fn parameters(name: &str) -> Option<&'static [&'static str]> {
            match name {
                $($name => Some(fields::of::<$ty>()),)*
                _ => None,
            }
        }
    };
}

faults! {
    Refuse(Refuse) = "refuse",
        wire: "Nothing listens: the port is bound but not listening, so the kernel answers the SYN with an RST. The port stays reserved so no other process can take it.",
        clients: "connection refused (ECONNREFUSED); requests raises ConnectionError, curl exits 7.",
        handle: "Fail fast with a message naming the host and port. Retry with backoff only when the service is expected back (a restart or deploy).";
    Blackhole(Blackhole) = "blackhole",
        wire: "SYNs are dropped: the listener's backlog is full and never drained, so the TCP handshake never completes.",
        clients: "a connect timeout, or a hang where no connect timeout is set; requests raises ConnectTimeout, curl exits 28.",
        handle: "Always set a connect timeout: without one, a client waits out the kernel's SYN retries, over two minutes on Linux. Retry with backoff.";
    WrongPort(WrongPort) = "wrong-port",
        wire: "A healthy server listens on one port, but the URL handed out points at another, refused port: a service that moved.",
        clients: "connection refused, exactly as for refuse; the healthy server's journal shows no attempt.",
        handle: "Retrying never helps: the configuration is wrong. Report the host and port tried, so the mismatch is visible.";
    Hang(Hang) = "hang",
        wire: "Accepts, reads the request, and never answers until the client leaves or the server stops.",
        clients: "a read timeout, or a hang where none is set; requests raises ReadTimeout, curl exits 28.",
        handle: "Set a read timeout. The server may have acted on the request, so retry only idempotent requests.";
    HangOnAccept(HangOnAccept) = "hang-on-accept",
        wire: "Accepts the connection and never reads from it: the request stays unread in the socket buffer.",
        clients: "a read timeout (the connect succeeded); requests raises ReadTimeout, curl exits 28.",
        handle: "Set a read timeout: a successful connect proves nothing about the service. Safe to retry, since the request was never read.";
    EmptyReply(EmptyReply) = "empty-reply",
        wire: "Reads the request, then closes with a FIN without sending a single byte.",
        clients: "an empty reply; requests raises ConnectionError (RemoteDisconnected), curl exits 52.",
        handle: "Retry idempotent requests. Connection pools meet this on stale kept-alive connections.";
    Reset(Reset) = "reset",
        wire: "Aborts the connection with a TCP RST (SO_LINGER 0): after reading the request (default), on accept, or after some response body bytes.",
        clients: "connection reset by peer (ECONNRESET); requests raises ConnectionError, curl exits 56 (exit 7 when the reset lands during its connect).",
        handle: "Retry idempotent requests with backoff. A reset after the request was sent may mean the server had started on it.";
    Truncate(Truncate) = "truncate",
        wire: "Sends headers promising Content-Length N, then fewer than N body bytes, then closes with a FIN.",
        clients: "an incomplete body; requests raises ChunkedEncodingError (IncompleteRead), curl exits 18.",
        handle: "Never use a partial body: treat the request as failed and retry it if it is idempotent.";
    CutChunk(CutChunk) = "cut-chunk",
        wire: "Sends a chunked body and closes with a FIN in the middle of a chunk.",
        clients: "an incomplete chunked body; requests raises ChunkedEncodingError, curl exits 18; Node 20's fetch accepts it as complete.",
        handle: "Never use a partial body: treat the request as failed and retry it if it is idempotent.";
    BadChunk(BadChunk) = "bad-chunk",
        wire: "Sends a chunked body whose chunk-size line is not hexadecimal, then closes.",
        clients: "a malformed body; requests raises ChunkedEncodingError (InvalidChunkLength), curl exits 56.",
        handle: "A server or proxy bug: retrying rarely helps. Fail, and log the status and headers that did arrive.";
    Garbage(Garbage) = "garbage",
        wire: "Reads the request, answers with seeded, reproducible bytes that are not HTTP, then closes.",
        clients: "a malformed response; requests raises ConnectionError (BadStatusLine), curl exits 1 (HTTP/0.9 not allowed).",
        handle: "Not HTTP at all: a wrong port, another protocol, or TLS spoken to plaintext. Check the URL and scheme instead of retrying.";
    SlowHeaders(SlowHeaders) = "slow-headers",
        wire: "Waits before sending the status line, then answers a normal 200.",
        clients: "a read timeout when the delay exceeds it, otherwise success; requests raises ReadTimeout.",
        handle: "Size the read timeout from the service's real latency. An answer that arrives within it is a success, not a failure.";
    Drip(Drip) = "drip",
        wire: "Sends the headers at once, then the body one byte at a time at a fixed interval.",
        clients: "a total timeout fires; a per-read timeout longer than the interval never does.",
        handle: "A per-read timeout does not bound a slow body. Use a total deadline when the whole response must arrive in time.";
    Bandwidth(Bandwidth) = "bandwidth",
        wire: "Sends a valid response at a fixed rate in bytes per second, then closes.",
        clients: "success that takes (size + head)/rate seconds, or a total timeout that fires first.",
        handle: "Size the total deadline for the largest body at the slowest acceptable rate.";
    Slicer(Slicer) = "slicer",
        wire: "Splits a valid response into small TCP segments with a delay between them, then closes.",
        clients: "success; parsers that assume a whole response arrives in one read break.",
        handle: "Read until the message framing says the response is complete; one read never promises a whole response.";
    LimitData(LimitData) = "limit-data",
        wire: "Starts a valid response and closes with a FIN after a fixed number of bytes.",
        clients: "an incomplete body; a cut inside the headers is an error for fetch but a 200 with an empty body for requests and curl.",
        handle: "Discard what arrived and retry idempotent requests.";
    SlowClose(SlowClose) = "slow-close",
        wire: "Sends a response whose body ends at connection close (no Content-Length), and delays that close.",
        clients: "a read timeout when the delay exceeds it, which requests raises as ConnectionError, not Timeout; otherwise success after the delay.",
        handle: "Prefer responses with Content-Length. For close-delimited bodies, a read timeout keeps a lingering connection from holding you.";
    Status(Status) = "status",
        wire: "Answers with any status code, headers and body (500, 503 with Retry-After, 429 ...), served by hyper.",
        clients: "a response, not an error, until the client checks the status; requests raises HTTPError from raise_for_status().",
        handle: "Check the status. Retry 429 and 503 after Retry-After, 502 and 504 with backoff; never retry other 4xx.";
    RedirectLoop(RedirectLoop) = "redirect-loop",
        wire: "Answers every request with a 302 whose Location is the request's own path, served by hyper.",
        clients: "too many redirects; reqwest stops after 10, requests raises TooManyRedirects after 30, curl -L exits 47 at --max-redirs.",
        handle: "Bound redirects (the defaults do) and report the URL that loops; retrying never helps.";
    RedirectChain(RedirectChain) = "redirect-chain",
        wire: "Redirects a set number of times (302 with Location ?outage-hop=N), then gives a final answer (200 by default).",
        clients: "success when the chain is within the client's redirect limit, too many redirects when it is not.",
        handle: "Know your client's redirect limit; a chain longer than it is a configuration problem, not a transient one.";
    BadEncoding(BadEncoding) = "bad-encoding",
        wire: "Answers 200 with Content-Encoding: gzip on a body that is not gzip, served by hyper.",
        clients: "a decode error while reading the body; reqwest (gzip feature) is_decode, requests raises ContentDecodingError, curl --compressed exits 61.",
        handle: "A server or proxy bug: retrying rarely helps. Fail, and log the headers that arrived.";
    ConflictingLength(ConflictingLength) = "conflicting-length",
        wire: "Answers with two different Content-Length headers on the raw connection, then closes with a FIN.",
        clients: "reqwest (hyper) rejects the response as malformed; requests (urllib3 2) raises InvalidHeader at once; curl takes the last value and exits 18 when the connection closes short of it.",
        handle: "An unrecoverable framing error (RFC 9112): do not use the body, and do not retry through the same proxy.";
    Routes(Routes) = "routes",
        wire: "Reads each request's path and hands it to the fault of the first route that matches (exact paths and prefixes such as /api/*), or to a fallback (404).",
        clients: "whatever the chosen fault produces; each attempt's route is in the journal.",
        handle: "Test a client that calls several endpoints: one failing endpoint, the others healthy.";
    Ok(Healthy) = "ok",
        wire: "A healthy server: answers 200 with a short body, served by hyper, keeping the connection alive.",
        clients: "success.",
        handle: "Nothing to handle: the control case every fault is compared with.";
    TlsOk(TlsOk) = "tls-ok",
        wire: "A healthy https server: a valid certificate for 127.0.0.1 and localhost, signed by the server's own throwaway CA, which is exported (`--write-ca FILE`, `ca_pem()`); then 200 like ok.",
        clients: "success for a client that trusts the CA; an unknown issuer, like tls-untrusted-ca, for one that does not.",
        handle: "The control case of the TLS family. Trust the CA from the client's own settings: a bundle file or a root certificate, never verification turned off.";
    TlsSelfSigned(TlsSelfSigned) = "tls-self-signed",
        wire: "Completes the TLS handshake with a self-signed certificate that no CA vouches for, not even the exported one.",
        clients: "an untrusted certificate; reqwest tls(untrusted), requests raises SSLError (self-signed certificate), curl exits 60.",
        handle: "Never retry and never turn verification off in production: trust that one certificate explicitly, or fix the server.";
    TlsExpired(TlsExpired) = "tls-expired",
        wire: "Presents a certificate signed by the exported CA whose validity ended in 2002.",
        clients: "an expired certificate, also for a client that trusts the CA; requests raises SSLError (certificate has expired), curl exits 60.",
        handle: "Retrying never helps: alert whoever renews the certificate. Also check the client's clock.";
    TlsNotYetValid(TlsNotYetValid) = "tls-not-yet-valid",
        wire: "Presents a certificate signed by the exported CA whose validity starts in 2100, as a server with a clock far ahead makes.",
        clients: "a certificate outside its validity window, class tls(expired); requests raises SSLError (certificate is not yet valid), curl exits 60.",
        handle: "Check the clocks of both machines; retrying never helps.";
    TlsWrongHost(TlsWrongHost) = "tls-wrong-host",
        wire: "Presents a certificate signed by the exported CA that names only wrong-host.outage.invalid, not the address asked for.",
        clients: "a host name mismatch, also for a client that trusts the CA; requests raises SSLError (IP address mismatch), curl exits 60.",
        handle: "Retrying never helps: the URL names a host the certificate does not cover. Fix the URL or the certificate; never turn off host name checks.";
    TlsUntrustedCa(TlsUntrustedCa) = "tls-untrusted-ca",
        wire: "Presents a certificate signed by a second CA that is never exported.",
        clients: "an unknown issuer, even for a client that trusts the exported CA; requests raises SSLError (unable to get local issuer certificate), curl exits 60.",
        handle: "Add the issuing CA to the client's trust (a private CA), or fix the server's chain; retrying never helps.";
    TlsPlaintext(TlsPlaintext) = "tls-plaintext",
        wire: "The URL says https, but the server speaks plain HTTP: it answers the TLS ClientHello with a plain 400 Bad Request and closes.",
        clients: "a TLS protocol error; requests raises SSLError (wrong version number), curl exits 35.",
        handle: "The scheme is wrong: use http, or the port that speaks TLS. Retrying never helps.";
    TlsHandshakeStall(TlsHandshakeStall) = "tls-handshake-stall",
        wire: "Accepts the TCP connection on an https URL, reads the ClientHello, and never answers it.",
        clients: "a timeout during the handshake, or a hang where none is set; reqwest's connect timeout fires, requests raises ReadTimeout from inside the handshake, curl exits 28 (SSL connection timeout).",
        handle: "Bound the handshake: most clients count it in the connect timeout. Retry with backoff; nothing was sent yet.";
    TlsHandshakeDrop(TlsHandshakeDrop) = "tls-handshake-drop",
        wire: "Accepts the TCP connection on an https URL, reads the ClientHello, and closes with a FIN without answering.",
        clients: "a TLS protocol error (the peer closed during the handshake); requests raises SSLError (EOF in violation of protocol), curl exits 35.",
        handle: "Retry with backoff: nothing was sent yet. A lasting failure means a TLS terminator that rejects the client (SNI, versions, ciphers).";
    Sequence(Sequence) = "sequence",
        wire: "Applies a list of faults per attempt, the last one repeating: [reset, status 503, ok] fails twice, then succeeds.",
        clients: "whatever each step produces; the building block of every retry test.",
        handle: "Test retry logic with it: count the attempts and measure the gaps in the journal, not just the final result.";
    Chance(Chance) = "chance",
        wire: "Applies a fault to each attempt with a given probability and another fault to the rest, drawn from a seed: the same seed strikes the same attempts.",
        clients: "a random mix of two outcomes that replays exactly; for testing retries against flaky service.",
        handle: "Retry with backoff and a bound on attempts; when a run fails, its seed replays the same faults.";
    H2RefusedStream(H2RefusedStream) = "h2-refused-stream",
        wire: "Over HTTP/2, resets each stream with RST_STREAM(REFUSED_STREAM) before reading its request.",
        clients: "a stream error REFUSED_STREAM, class stream-refused; reqwest retries it twice on its own, curl 7.88 five times on new connections and then exits 56; httpx and Node's http2 never retry it.",
        handle: "Safe to retry any request, a POST too: RFC 9113 says the server did not process it.";
    H2ResetStream(H2ResetStream) = "h2-reset-stream",
        wire: "Over HTTP/2, resets each stream with RST_STREAM and a chosen code (default INTERNAL_ERROR): before the response, after its headers, or after some body bytes.",
        clients: "a stream error with that code, class stream-reset(CODE); curl exits 92; no client retries it on its own.",
        handle: "The server may have processed the request: retry only idempotent requests, and never use a body cut short.";
    H2Goaway(H2Goaway) = "h2-goaway",
        wire: "Over HTTP/2, sends GOAWAY with a chosen last-stream-id (default 0: nothing processed) and code (default NO_ERROR), after N streams of a connection (default 0); then closes gracefully or at once.",
        clients: "streams above the last-stream-id fail unprocessed, class goaway; reqwest retries them twice on new connections when the code is NO_ERROR; curl exits 16; httpx and Node's http2 do not retry.",
        handle: "Retry the unprocessed streams on a new connection; a pool must stop handing out a connection that said GOAWAY.";
    H2WindowStall(H2WindowStall) = "h2-window-stall",
        wire: "Over HTTP/2, a stream window of 0 that never grows (no WINDOW_UPDATE) and headers with no DATA after them.",
        clients: "a read timeout, or a hang where none is set; an upload never leaves the client.",
        handle: "Set a read timeout or a total deadline: flow control can stall a stream while the connection looks alive.";
    H2MaxStreams(H2MaxStreams) = "h2-max-streams",
        wire: "Over HTTP/2, SETTINGS_MAX_CONCURRENT_STREAMS = N (default 1), with each stream held (default 1s) before its answer.",
        clients: "requests past N queue on the connection (or on another one), or are refused with REFUSED_STREAM when the client ignores the setting.",
        handle: "Expect queueing under a server's stream limit: time requests from their start, and size pools for it.";
    H2SettingsStall(H2SettingsStall) = "h2-settings-stall",
        wire: "Over HTTP/2, reads the client's preface and never sends the server's SETTINGS (or never acknowledges the client's): the connection never becomes usable.",
        clients: "a read timeout, or a hang where none is set.",
        handle: "Bound the whole request with a deadline; a connection can be open and useless.";
    H2PingSilence(H2PingSilence) = "h2-ping-silence",
        wire: "Over HTTP/2, answers each stream like ok but never answers a PING on the connection.",
        clients: "clients with HTTP/2 keep-alive PINGs drop the connection when their PING timeout fires; others never notice.",
        handle: "Turn on keep-alive PINGs with a timeout for long-lived connections, so a dead peer is found before a request waits on it.";
    H2GarbageFrame(H2GarbageFrame) = "h2-garbage-frame",
        wire: "Over HTTP/2, sends a frame no peer may accept on stream 0 (a PING of 7 bytes by default) when a stream arrives.",
        clients: "a connection error (FRAME_SIZE_ERROR or PROTOCOL_ERROR) that fails every stream: malformed-response for reqwest and httpx, an empty reply for curl (exit 52); Node's http2 never fails the request, so only a timeout ends it.",
        handle: "A server or proxy bug: retrying on a new connection may help once; report it.";
}

impl Serialize for Fault {
    /// A table with a `kind` key and every parameter, as a scenario file
    /// writes the fault.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Fault::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for Fault {
    /// Accepts a table with a `kind` key, or a bare name for the fault's defaults.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FaultVisitor;
        impl<'de> serde::de::Visitor<'de> for FaultVisitor {
            type Value = Fault;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a fault name or a table with a `kind` key")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Fault, E> {
                Fault::named(name).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Fault, A::Error> {
                Fault::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_any(FaultVisitor)
    }
}

/// A leaf's setters: one chainable by-value method per listed field, named
/// after it and carrying the doc written above it. The option structs are
/// `#[non_exhaustive]`, so outside this crate these setters are how a fault
/// gets its parameters: `Truncate::default().length(2048).sent(100)`. A field
/// listed as `name: impl Into<T>` takes anything that converts into `T` (a
/// `&str` for a `String`); any other type is taken as it is. Collections and
/// boxed faults get hand-written methods next to the invocation.
macro_rules! setters {
    ($leaf:ident { $($fields:tt)* }) => {
        impl $leaf {
            $crate::fault::setters!(@field $($fields)*);
        }
    };
    (@field) => {};
    (@field $(#[$doc:meta])* $field:ident: impl Into<$ty:ty> $(, $($rest:tt)*)?) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: impl Into<$ty>) -> Self {
            self.$field = $field.into();
            self
        }
        $crate::fault::setters!(@field $($($rest)*)?);
    };
    (@field $(#[$doc:meta])* $field:ident: $ty:ty $(, $($rest:tt)*)?) => {
        $(#[$doc])*
        pub fn $field(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
        $crate::fault::setters!(@field $($($rest)*)?);
    };
}
pub(crate) use setters;

/// The fields a leaf's derived `Deserialize` asks for, read from the
/// derive itself rather than from the text of an error.
mod fields {
    use serde::de::{self, Deserialize, Visitor};

    /// Every field of `T`, a struct with a derived `Deserialize`; empty for
    /// a unit struct.
    pub(super) fn of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
        let mut fields: &'static [&'static str] = &[];
        // The recorder always fails once it has the list: nothing is built.
        let _ = T::deserialize(Recorder(&mut fields));
        fields
    }

    struct Recorder<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Recorder<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only a struct lists its fields"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
}

/// A fault whose parameters are out of range or do not fit together. Its
/// `Debug` is its message.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {fault} fault: {reason}")]
#[non_exhaustive]
pub struct InvalidFault {
    /// The fault's name.
    pub fault: &'static str,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl InvalidFault {
    pub(crate) fn new(fault: &'static str, reason: impl Into<String>) -> Self {
        InvalidFault {
            fault,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Debug for InvalidFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A fault name that is not in the catalogue. Its `Debug` is its message.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {name:?}{}; expected one of {}", suggestion(.nearest), names().join(", "))]
#[non_exhaustive]
pub struct UnknownFault {
    /// The name given.
    pub name: String,
    /// The closest known name, when one is close enough to be a likely typo.
    pub nearest: Option<&'static str>,
}

impl std::fmt::Debug for UnknownFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

fn suggestion(nearest: &Option<&'static str>) -> String {
    nearest
        .map(|n| format!("; did you mean {n:?}?"))
        .unwrap_or_default()
}

/// The names of every fault, in catalogue order.
pub fn names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|f| f.name).collect()
}

/// The known fault name closest to `name`, if it is close enough to suggest.
pub fn nearest_name(name: &str) -> Option<&'static str> {
    crate::words::nearest(name, CATALOGUE.iter().map(|f| f.name))
}

impl Fault {
    /// The fault called `name`, with every parameter at its default.
    pub fn named(name: &str) -> Result<Fault, UnknownFault> {
        let unknown = || UnknownFault {
            name: name.to_owned(),
            nearest: nearest_name(name),
        };
        if !names().contains(&name) {
            return Err(unknown());
        }
        // Every fault has a default for every parameter, so a table holding only
        // a known `kind` always deserializes; `sequence` defaults to `[ok]`.
        let table = [("kind", name)].into_iter();
        let table = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(table);
        Fault::deserialize(table).map_err(|_| unknown())
    }

    /// `refuse` with its defaults.
    pub fn refuse() -> Fault {
        Fault::Refuse(Refuse::default())
    }

    /// `reset` after the request is read.
    pub fn reset() -> Fault {
        Fault::Reset(Reset::default())
    }

    /// `hang` after reading the request.
    pub fn hang() -> Fault {
        Fault::Hang(Hang::default())
    }

    /// `routes` from `(path pattern, fault)` pairs, tried in order, with a
    /// `404` for every other path; [`Routes::fallback`] changes that.
    ///
    /// ```
    /// use outage::Fault;
    /// let api = Fault::routes([("/api/users", Fault::hang()), ("/health", Fault::ok())]);
    /// assert!(api.validate().is_ok());
    /// ```
    pub fn routes<'a>(table: impl IntoIterator<Item = (&'a str, Fault)>) -> Fault {
        Fault::Routes(Routes::new(table))
    }

    /// `status` with the given code and an empty body.
    pub fn status(code: u16) -> Fault {
        Fault::Status(Status::code(code))
    }

    /// A healthy `ok` server.
    pub fn ok() -> Fault {
        Fault::Ok(Healthy::default())
    }

    /// `sequence` of the given steps, the last one repeating.
    pub fn sequence(steps: impl IntoIterator<Item = Fault>) -> Fault {
        Fault::Sequence(Sequence {
            steps: steps.into_iter().collect(),
        })
    }

    /// Checks parameters that the types alone cannot (for example a truncation
    /// that sends more than it promised, or a size past 10^15 bytes or a wait
    /// past 10 years), so that a fault that passes can be served without
    /// overflowing anything.
    pub fn validate(&self) -> Result<(), InvalidFault> {
        self.leaf()
            .validate()
            .map_err(|reason| InvalidFault::new(self.name(), reason))
    }

    /// The seed of the fault's randomness, when it has any: a run with the same
    /// seed meets exactly the same faults.
    pub fn seed(&self) -> Option<u64> {
        self.leaf().seed()
    }

    /// True for faults that shape the listening socket rather than a connection.
    pub fn is_listener_fault(&self) -> bool {
        matches!(self.leaf().handling(), Handling::Listener(_))
    }

    /// True when the fault, or any fault it may apply, is in the TLS family:
    /// its server's URL is `https`, and every other fault it applies runs
    /// behind TLS.
    pub fn is_tls(&self) -> bool {
        self.leaf().is_tls()
    }

    /// True when the fault, or any fault it may apply, acts on HTTP/2
    /// streams (the `h2-*` faults): its server speaks HTTP/2.
    pub fn is_http2(&self) -> bool {
        self.leaf().is_http2()
    }

    /// True when the fault acts on a connection before a request could be
    /// read (`hang-on-accept`, `reset` on accept, `h2-settings-stall`, the
    /// TLS faults that break the handshake).
    pub(crate) fn acts_before_request(&self) -> bool {
        self.leaf().acts_before_request()
    }

    /// Why this fault cannot also be served behind TLS (`tls = true`,
    /// `--tls`), or `None` when it can.
    pub fn why_not_behind_tls(&self) -> Option<&'static str> {
        if self.is_listener_fault() {
            Some("it never accepts a connection, so there is nothing to put behind TLS")
        } else if self.is_tls() && !matches!(self, Fault::Sequence(_) | Fault::Chance(_)) {
            Some("it is a TLS fault, served on an https URL already")
        } else {
            None
        }
    }

    /// The certificate a fault of the TLS family presents itself.
    fn presents(&self) -> Option<Leaf> {
        self.leaf().presents()
    }

    /// How a connection meets TLS before this fault acts on it, on a server
    /// whose URL is `https` or not.
    pub(crate) fn tls(&self, https: bool) -> Tls {
        match self.presents() {
            Some(leaf) => Tls::Present(leaf),
            // The raw TLS faults (plaintext, stall, drop) never complete a handshake.
            None if https && !self.is_tls() => Tls::Present(Leaf::Valid),
            None => Tls::Raw,
        }
    }

    /// Every certificate a server for this fault may present.
    pub(crate) fn leaves(&self, https: bool) -> Vec<Leaf> {
        match self {
            Fault::Sequence(s) => s.steps.iter().flat_map(|f| f.leaves(https)).collect(),
            Fault::Chance(c) => [c.fault.leaves(https), c.otherwise.leaves(https)].concat(),
            fault => match fault.tls(https) {
                Tls::Present(leaf) => vec![leaf],
                Tls::Raw => Vec::new(),
            },
        }
    }

    /// The fault that handles attempt `index`: itself, or the step a
    /// `sequence` or a `chance` picks for it.
    /// The responder of a fault that answers every request alike (not a
    /// `sequence`, `chance` or `routes`), if it is one: what it does can be
    /// told before the attempt is journaled.
    pub(crate) fn sole_responder(&self) -> Option<&dyn Respond> {
        match self.leaf().handling() {
            Handling::Respond(respond) => Some(respond),
            _ => None,
        }
    }

    pub(crate) fn for_attempt(&self, index: u64) -> Chosen<'_> {
        let mut fault = self;
        loop {
            match fault.leaf().handling() {
                Handling::Pick(pick) => fault = pick.pick(index),
                Handling::Respond(respond) => return Chosen::new(fault, Acts::Respond(respond)),
                Handling::Misbehave(misbehave) => {
                    return Chosen::new(fault, Acts::Misbehave(misbehave));
                }
                Handling::Route(routes) => return Chosen::new(fault, Acts::Route(routes)),
                Handling::Listener(listen) => return Chosen::new(fault, Acts::Listener(listen)),
                Handling::Stream(stream) => return Chosen::new(fault, Acts::Stream(stream)),
            }
        }
    }
}

/// The fault chosen for one attempt: never a `sequence` or a `chance`.
#[derive(Clone, Copy)]
pub(crate) struct Chosen<'a> {
    fault: &'a Fault,
    acts: Acts<'a>,
}

/// How the chosen fault acts on its attempt.
#[derive(Clone, Copy)]
pub(crate) enum Acts<'a> {
    Respond(&'a dyn Respond),
    Misbehave(&'a dyn Misbehave),
    /// Once the request head is read, its path chooses again.
    Route(&'a Routes),
    Listener(&'a dyn Listen),
    /// Acts on an HTTP/2 stream.
    Stream(&'a dyn StreamFault),
}

impl<'a> Chosen<'a> {
    fn new(fault: &'a Fault, acts: Acts<'a>) -> Self {
        Chosen { fault, acts }
    }

    pub(crate) fn fault(self) -> &'a Fault {
        self.fault
    }

    pub(crate) fn acts(self) -> Acts<'a> {
        self.acts
    }

    /// What the chosen fault does to an upstream's response, in a proxy.
    pub(crate) fn shape(self) -> Option<Shape> {
        self.fault.leaf().shape()
    }

    /// How the connection meets TLS before this fault acts on it.
    pub(crate) fn tls(self, https: bool) -> Tls {
        self.fault.tls(https)
    }

    /// The SETTINGS of an HTTP/2 connection whose first stream meets it.
    pub(crate) fn http2_settings(self) -> Http2Settings {
        match self.acts {
            Acts::Stream(fault) => fault.settings(),
            _ => Http2Settings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_name_builds_a_fault_with_defaults() {
        for name in names() {
            let fault = Fault::named(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(fault.name(), name);
            fault.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn readme_has_a_section_for_every_fault() {
        let readme = include_str!("../../README.md");
        for name in names() {
            assert!(
                readme.contains(&format!("\n### `{name}`\n")),
                "README.md has no section for {name}"
            );
        }
    }

    #[test]
    fn the_tls_family_is_https_and_other_faults_run_behind_a_valid_certificate() {
        let tls = |name: &str| Fault::named(name).unwrap();
        assert!(tls("tls-expired").is_tls());
        assert!(tls("tls-handshake-stall").is_tls());
        assert!(!Fault::reset().is_tls());
        assert!(Fault::sequence([Fault::reset(), tls("tls-ok")]).is_tls());
        assert_eq!(tls("tls-expired").tls(true), Tls::Present(Leaf::Expired));
        assert_eq!(tls("tls-plaintext").tls(true), Tls::Raw);
        assert_eq!(Fault::reset().tls(true), Tls::Present(Leaf::Valid));
        assert_eq!(Fault::reset().tls(false), Tls::Raw);
        let sequence = Fault::sequence([
            tls("tls-wrong-host"),
            tls("tls-handshake-drop"),
            Fault::ok(),
        ]);
        assert_eq!(sequence.leaves(true), [Leaf::WrongHost, Leaf::Valid]);
    }

    #[test]
    fn every_listed_parameter_is_a_key_the_fault_accepts() {
        for name in names() {
            let parameters = parameters(name).expect("a catalogued name has parameters");
            for key in parameters {
                let mut table = toml::Table::new();
                table.insert("kind".into(), name.into());
                table.insert((*key).into(), toml::Value::Boolean(true));
                if let Err(error) = table.try_into::<Fault>() {
                    assert!(
                        !error.to_string().contains("unknown field"),
                        "{name} lists {key:?} but refuses it: {error}"
                    );
                }
            }
        }
        assert_eq!(parameters("hang-on-accept"), Some(&[][..]));
        assert!(parameters("truncate").unwrap().contains(&"length"));
        assert!(parameters("status").unwrap().contains(&"retry-after"));
        assert_eq!(parameters("rest"), None);
    }

    #[test]
    fn every_fault_written_as_toml_reads_back_the_same() {
        let mut faults: Vec<Fault> = names()
            .into_iter()
            .map(|n| Fault::named(n).unwrap())
            .collect();
        faults.push(
            Status::code(503)
                .retry_after(std::time::Duration::from_millis(1500))
                .into(),
        );
        for fault in faults {
            let written =
                toml::Value::try_from(&fault).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
            let read: Fault = written
                .clone()
                .try_into()
                .unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(read, fault, "{written}");
        }
        let truncate = toml::Value::try_from(Fault::truncate())
            .unwrap()
            .to_string();
        assert_eq!(
            truncate,
            "{ kind = \"truncate\", length = 1024, sent = 512 }"
        );
    }

    #[test]
    fn every_fault_with_randomness_names_its_seed() {
        // `ok` draws httpbin's random answers from its seed.
        assert_eq!(Fault::ok().seed(), Some(Healthy::default().seed));
        assert_eq!(Fault::garbage().seed(), Some(Garbage::default().seed));
        assert_eq!(
            Fault::sequence([Fault::reset(), Fault::ok()]).seed(),
            Some(0)
        );
        assert_eq!(Fault::reset().seed(), None);
    }

    #[test]
    fn unknown_name_suggests_the_nearest_fault() {
        let error = Fault::named("rest").unwrap_err();
        assert_eq!(error.nearest, Some("reset"));
        assert!(error.to_string().starts_with(
            "unknown fault \"rest\"; did you mean \"reset\"?; expected one of refuse, blackhole"
        ));
    }

    #[test]
    fn a_table_and_a_bare_name_both_deserialize() {
        #[derive(Deserialize)]
        struct File {
            fault: Fault,
        }
        let table: File = toml::from_str("fault = { kind = \"status\", code = 503 }").unwrap();
        assert_eq!(table.fault, Fault::status(503));
        let bare: File = toml::from_str("fault = \"reset\"").unwrap();
        assert_eq!(bare.fault, Fault::reset());
    }

    #[test]
    fn unknown_parameters_are_rejected() {
        let error = toml::from_str::<toml::Table>("kind = \"hang\"\ncode = 1")
            .unwrap()
            .try_into::<Fault>()
            .unwrap_err();
        assert!(
            error.to_string().contains("unknown field `code`"),
            "{error}"
        );
    }
}
