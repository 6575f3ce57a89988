//! Throwaway certificates for TLS servers, made by rcgen when a server starts.
//!
//! Each server gets its own certificate authority. Its certificate is exported
//! ([`FaultServer::ca_pem`](crate::FaultServer::ca_pem)) so that a client can
//! trust it and then meet exactly one fault: an expired leaf, a leaf for
//! another host, and so on. No private key is ever written anywhere.
//!
//! Every certificate has a subject of its own ("outage test CA 1234-5-…"):
//! verifiers look issuers up by subject name, and a common one such as
//! `CN=localhost` would match unrelated certificates in the system's trust
//! store (a snake-oil certificate, for one) and confuse them.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate a TLS server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Leaf {
    /// Signed by the exported CA, for 127.0.0.1 and localhost, valid now.
    Valid,
    /// Signed by the exported CA; its validity ended in 2002.
    Expired,
    /// Signed by the exported CA; its validity starts in 2100.
    NotYetValid,
    /// Signed by the exported CA, for another host name only.
    WrongHost,
    /// Signed by a second CA that is never exported.
    UntrustedCa,
    /// Signed by its own key.
    SelfSigned,
}

/// The only name in a [`Leaf::WrongHost`] certificate: a reserved name that
/// can never be the host a client asked for.
pub(crate) const WRONG_HOST: &str = "wrong-host.outage.invalid";

/// Certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertificateError {
    #[error("{0}")]
    Generate(#[from] rcgen::Error),
    #[error("{0}")]
    Configure(#[from] rustls::Error),
}

/// One server's certificates: its exported CA, and a TLS acceptor for each
/// leaf the server presents.
pub(crate) struct Certificates {
    ca_pem: String,
    acceptors: Vec<(Leaf, TlsAcceptor)>,
}

impl Certificates {
    /// A new CA, and a leaf of each kind in `leaves`, for a server that
    /// offers HTTP/2 in ALPN or not.
    pub(crate) fn new(leaves: &[Leaf], http2: bool) -> Result<Certificates, CertificateError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        // The first random bytes a process draws seed aws-lc's generator,
        // which takes tens of milliseconds in a debug build. Draw them now,
        // so the server is ready when it starts rather than slow on its first
        // handshake, where a client's connect timeout would count it.
        provider
            .secure_random
            .fill(&mut [0; 32])
            .map_err(|_| rustls::Error::FailedToGetRandomBytes)?;
        let id = unique_id();
        let ca = authority(&format!("outage test CA {id}"))?;
        let mut acceptors = Vec::new();
        for &leaf in leaves {
            if acceptors.iter().any(|(l, _)| *l == leaf) {
                continue;
            }
            let subject = format!("outage test server {id} {leaf:?}");
            let key = KeyPair::generate()?;
            let params = leaf_params(leaf, &subject)?;
            let cert = match leaf {
                Leaf::SelfSigned => params.self_signed(&key)?,
                Leaf::UntrustedCa => {
                    let other = authority(&format!("outage untrusted CA {id}"))?;
                    params.signed_by(&key, &other)?
                }
                _ => params.signed_by(&key, &ca)?,
            };
            let acceptor = acceptor(provider.clone(), cert.der().clone(), &key, http2)?;
            acceptors.push((leaf, acceptor));
        }
        Ok(Certificates {
            ca_pem: ca.pem(),
            acceptors,
        })
    }

    /// The CA's certificate in PEM.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The acceptor that presents `leaf`, if this server presents it.
    pub(crate) fn acceptor(&self, leaf: Leaf) -> Option<&TlsAcceptor> {
        self.acceptors
            .iter()
            .find_map(|(l, acceptor)| (*l == leaf).then_some(acceptor))
    }
}

/// A subject suffix no other certificate shares: the process, a counter, the time.
fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos:09}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn named(subject: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "outage");
    name.push(DnType::CommonName, subject);
    name
}

fn authority(subject: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = named(subject);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2100, 1, 1);
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

fn leaf_params(leaf: Leaf, subject: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = named(subject);
    params.subject_alt_names = match leaf {
        Leaf::WrongHost => vec![SanType::DnsName(WRONG_HOST.try_into()?)],
        _ => vec![
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into()?),
        ],
    };
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    (params.not_before, params.not_after) = match leaf {
        Leaf::Expired => (date_time_ymd(2001, 1, 1), date_time_ymd(2002, 1, 1)),
        Leaf::NotYetValid => (date_time_ymd(2100, 1, 1), date_time_ymd(2101, 1, 1)),
        _ => (date_time_ymd(2000, 1, 1), date_time_ymd(2100, 1, 1)),
    };
    Ok(params)
}

fn acceptor(
    provider: Arc<CryptoProvider>,
    cert: CertificateDer<'static>,
    key: &KeyPair,
    http2: bool,
) -> Result<TlsAcceptor, rustls::Error> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    // Offer HTTP/2 only where it is served, so that no client tries it elsewhere.
    config.alpn_protocols = match http2 {
        true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        false => vec![b"http/1.1".to_vec()],
    };
    Ok(TlsAcceptor::from(Arc::new(config)))
}
