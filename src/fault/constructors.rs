//! A constructor for every fault, named after it, with its defaults. For
//! other parameters, build the fault's own type and pass it where a fault is
//! wanted: `FaultServer::start(Truncate { length: 10, sent: 5 })`.

use crate::fault::*;

impl Fault {
    /// `blackhole`: SYNs dropped, the connect never completes.
    pub fn blackhole() -> Fault {
        Blackhole::default().into()
    }

    /// `wrong-port`: a healthy server, and a URL that points at a refused port.
    pub fn wrong_port() -> Fault {
        WrongPort::default().into()
    }

    /// `hang-on-accept`: accepts and never reads.
    pub fn hang_on_accept() -> Fault {
        HangOnAccept::default().into()
    }

    /// `empty-reply`: reads the request, closes without a byte.
    pub fn empty_reply() -> Fault {
        EmptyReply::default().into()
    }

    /// `truncate`: promises 1024 body bytes and sends fewer.
    pub fn truncate() -> Fault {
        Truncate::default().into()
    }

    /// `cut-chunk`: a chunked body that stops inside a chunk.
    pub fn cut_chunk() -> Fault {
        CutChunk::default().into()
    }

    /// `bad-chunk`: a chunk size that is not hexadecimal.
    pub fn bad_chunk() -> Fault {
        BadChunk::default().into()
    }

    /// `garbage`: random bytes in place of a response.
    pub fn garbage() -> Fault {
        Garbage::default().into()
    }

    /// `slow-headers`: the status line after a delay.
    pub fn slow_headers() -> Fault {
        SlowHeaders::default().into()
    }

    /// `drip`: the body a byte at a time.
    pub fn drip() -> Fault {
        Drip::default().into()
    }

    /// `bandwidth`: the response at a bounded rate.
    pub fn bandwidth() -> Fault {
        Bandwidth::default().into()
    }

    /// `slicer`: the response in small slices with pauses.
    pub fn slicer() -> Fault {
        Slicer::default().into()
    }

    /// `limit-data`: the connection closed after a number of bytes.
    pub fn limit_data() -> Fault {
        LimitData::default().into()
    }

    /// `slow-close`: the response, then the connection held open.
    pub fn slow_close() -> Fault {
        SlowClose::default().into()
    }

    /// `redirect-loop`: redirects that never end.
    pub fn redirect_loop() -> Fault {
        RedirectLoop::default().into()
    }

    /// `redirect-chain`: a chain of redirects, then an answer.
    pub fn redirect_chain() -> Fault {
        RedirectChain::default().into()
    }

    /// `bad-encoding`: a body that does not match its Content-Encoding.
    pub fn bad_encoding() -> Fault {
        BadEncoding::default().into()
    }

    /// `conflicting-length`: Content-Length and Transfer-Encoding that disagree.
    pub fn conflicting_length() -> Fault {
        ConflictingLength::default().into()
    }

    /// `tls-ok`: https with a valid certificate from the server's own CA.
    pub fn tls_ok() -> Fault {
        TlsOk::default().into()
    }

    /// `tls-self-signed`: a self-signed certificate.
    pub fn tls_self_signed() -> Fault {
        TlsSelfSigned::default().into()
    }

    /// `tls-expired`: a certificate that expired in 2002.
    pub fn tls_expired() -> Fault {
        TlsExpired::default().into()
    }

    /// `tls-not-yet-valid`: a certificate valid from 2100.
    pub fn tls_not_yet_valid() -> Fault {
        TlsNotYetValid::default().into()
    }

    /// `tls-wrong-host`: a certificate for another host.
    pub fn tls_wrong_host() -> Fault {
        TlsWrongHost::default().into()
    }

    /// `tls-untrusted-ca`: a certificate from a CA that is never exported.
    pub fn tls_untrusted_ca() -> Fault {
        TlsUntrustedCa::default().into()
    }

    /// `tls-plaintext`: plain HTTP answered to a ClientHello.
    pub fn tls_plaintext() -> Fault {
        TlsPlaintext::default().into()
    }

    /// `tls-handshake-stall`: the ClientHello read and never answered.
    pub fn tls_handshake_stall() -> Fault {
        TlsHandshakeStall::default().into()
    }

    /// `tls-handshake-drop`: the ClientHello read, then a FIN.
    pub fn tls_handshake_drop() -> Fault {
        TlsHandshakeDrop::default().into()
    }
    /// `chance`: `fault` for attempts drawn with `probability` (from 0 to 1,
    /// from seed 0), `otherwise` for the rest.
    pub fn chance(probability: f64, fault: Fault, otherwise: Fault) -> Fault {
        Chance {
            probability,
            fault: Box::new(fault),
            otherwise: Box::new(otherwise),
            ..Chance::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_constructor_gives_its_fault_with_its_defaults() {
        let built = [
            Fault::blackhole(),
            Fault::wrong_port(),
            Fault::hang_on_accept(),
            Fault::empty_reply(),
            Fault::truncate(),
            Fault::cut_chunk(),
            Fault::bad_chunk(),
            Fault::garbage(),
            Fault::slow_headers(),
            Fault::drip(),
            Fault::bandwidth(),
            Fault::slicer(),
            Fault::limit_data(),
            Fault::slow_close(),
            Fault::redirect_loop(),
            Fault::redirect_chain(),
            Fault::bad_encoding(),
            Fault::conflicting_length(),
            Fault::tls_ok(),
            Fault::tls_self_signed(),
            Fault::tls_expired(),
            Fault::tls_not_yet_valid(),
            Fault::tls_wrong_host(),
            Fault::tls_untrusted_ca(),
            Fault::tls_plaintext(),
            Fault::tls_handshake_stall(),
            Fault::tls_handshake_drop(),
        ];
        for fault in built {
            assert_eq!(Fault::named(fault.name()).as_ref(), Ok(&fault));
        }
        let chance = Fault::chance(0.5, Fault::reset(), Fault::ok());
        assert_eq!(Fault::named("chance").as_ref(), Ok(&chance));
    }
}
