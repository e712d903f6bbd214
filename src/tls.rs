//! Which TLS stack the client uses and which roots it trusts: the one place the `rustls` and
//! `native-tls` features are read.
//!
//! The rule: when the `native-tls` feature is on, native-tls is used, whatever else is on;
//! otherwise rustls when `rustls` is on. With neither, the client speaks plain `http` only and
//! refuses an `https` base URL (and any root certificate) when it is built.

use ureq::config::ConfigBuilder;
use ureq::typestate::AgentScope;

use crate::error::{Error, Result};
use crate::trust::TlsRoots;

/// The name of the TLS stack this build uses, by the rule above; `None` without a TLS feature.
pub(crate) const STACK: Option<&str> = if cfg!(feature = "native-tls") {
    Some("native-tls")
} else if cfg!(feature = "rustls") {
    Some("rustls")
} else {
    None
};

/// Sets the agent's TLS stack and roots: `roots` (see [`TlsRoots`]) plus the PEM certificates
/// in `extra_roots`. By default the stack's own roots (Mozilla's for rustls, the platform's
/// store for native-tls), or Mozilla's roots plus the extra ones when there are any (ureq can
/// give native-tls either the platform store or a list of certificates, not both). Fails with
/// [`Error::Config`] on PEM without a certificate, or an empty platform store when the base URL
/// is `https` (`https_base`); for a plain `http` base URL the store is not read at all (only
/// the added roots are trusted, should a redirect lead to https), as curl goes on without a
/// bundle until a call needs one.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) fn configure(
    config: ConfigBuilder<AgentScope>,
    roots: TlsRoots,
    extra_roots: &[Vec<u8>],
    https_base: bool,
) -> Result<ConfigBuilder<AgentScope>> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

    // Only the platform store is read by the base URL's scheme.
    #[cfg(not(feature = "platform-roots"))]
    let _ = https_base;
    let provider = if cfg!(feature = "native-tls") {
        TlsProvider::NativeTls
    } else {
        TlsProvider::Rustls
    };
    let mut extra = Vec::new();
    for (i, pem) in extra_roots.iter().enumerate() {
        extra.extend(parse_root_certificates(pem, i + 1)?);
    }
    let mozilla = || {
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()))
    };
    let roots = match (roots, extra.is_empty(), provider) {
        // A plain-http base URL is not read from the store (on Debian ~150 files, most of a
        // CLI call's start-up): only the added roots are trusted, for an https redirect.
        #[cfg(feature = "platform-roots")]
        (TlsRoots::Platform, _, _) if !https_base => RootCerts::from(extra),
        #[cfg(feature = "platform-roots")]
        (TlsRoots::Platform, _, _) => RootCerts::from(
            crate::trust::platform_certificates()?
                .into_iter()
                .chain(extra),
        ),
        (TlsRoots::Default, true, TlsProvider::NativeTls) => RootCerts::PlatformVerifier,
        (TlsRoots::Default, true, _) => RootCerts::WebPki,
        _ => RootCerts::from(mozilla().chain(extra)),
    };
    Ok(config.tls_config(
        TlsConfig::builder()
            .provider(provider)
            .root_certs(roots)
            .build(),
    ))
}

/// Without a TLS feature there is nothing to configure, and nothing to add roots to.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn configure(
    config: ConfigBuilder<AgentScope>,
    roots: TlsRoots,
    extra_roots: &[Vec<u8>],
    _https_base: bool,
) -> Result<ConfigBuilder<AgentScope>> {
    if extra_roots.is_empty() && roots == TlsRoots::Default {
        Ok(config)
    } else {
        Err(Error::Config(
            "trusted roots need TLS: enable the `rustls` or `native-tls` feature".into(),
        ))
    }
}

/// Parses PEM text into the certificates it holds; fails unless it holds at least one and every
/// block parses. `index` numbers the certificate in messages (the builder's order, from 1).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn parse_root_certificates(
    pem: &[u8],
    index: usize,
) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    use ureq::tls::PemItem;

    let bad = |why: String| Error::Config(format!("root certificate {index}: {why}"));
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item.map_err(|e| bad(format!("not valid PEM ({e})")))? {
            // Both stacks silently drop a root they cannot parse, which would surface only
            // as an unknown-issuer failure on the first call: refuse it here instead.
            PemItem::Certificate(certificate) if is_certificate_der(certificate.der()) => {
                certificates.push(certificate)
            }
            PemItem::Certificate(_) => {
                return Err(bad(
                    "a CERTIFICATE block holds something that is not an X.509 certificate".into(),
                ));
            }
            // A private key among trusted roots usually means the wrong file: refuse it.
            PemItem::PrivateKey(_) => {
                return Err(bad("holds a private key, not a certificate".into()));
            }
            _ => {}
        }
    }
    if certificates.is_empty() {
        return Err(bad("no PEM CERTIFICATE block found".into()));
    }
    Ok(certificates)
}

/// Whether the TLS stack in use can read `der` as a root certificate: OpenSSL's parser through
/// native-tls, or rustls-webpki's trust-anchor parser (what rustls itself does with a root).
/// Each stack silently drops a root it cannot read, so the build checks it first.
#[cfg(feature = "native-tls")]
fn is_certificate_der(der: &[u8]) -> bool {
    native_tls::Certificate::from_der(der).is_ok()
}

/// See the native-tls version above.
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
fn is_certificate_der(der: &[u8]) -> bool {
    webpki::anchor_from_trusted_cert(&rustls_pki_types::CertificateDer::from(der)).is_ok()
}

/// Fails when `scheme` is `https` and this build has no TLS stack.
pub(crate) fn check_scheme(url: &str, scheme: Option<&str>) -> Result<()> {
    if scheme == Some("https") && STACK.is_none() {
        let shown = crate::userinfo::hide_userinfo(url);
        return Err(Error::Config(format!(
            "base URL {shown:?} needs TLS: enable the `rustls` or `native-tls` feature"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_tls_wins_when_both_features_are_on() {
        let expected = match (cfg!(feature = "native-tls"), cfg!(feature = "rustls")) {
            (true, _) => Some("native-tls"),
            (false, true) => Some("rustls"),
            (false, false) => None,
        };
        assert_eq!(STACK, expected);
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[test]
    fn pem_without_a_certificate_is_refused() {
        let err = parse_root_certificates(b"not pem at all", 1).unwrap_err();
        assert!(err.to_string().contains("root certificate 1"), "{err}");
        let key =
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE5hZ2l0ZXN0a2V5MDEyMzQ1Njc4OWFi\n-----END PRIVATE KEY-----\n";
        let err = parse_root_certificates(key, 2).unwrap_err();
        assert!(err.to_string().contains("root certificate 2"), "{err}");
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[test]
    fn der_that_ends_early_overruns_or_is_only_an_outline_is_not_a_certificate() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x85, 0x01, 0, 0, 0, 0],
            &[0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x03],
            &[0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x03, 0x00, 0x00],
            &[0x1f, 0x00],
        ] {
            assert!(!is_certificate_der(der), "{der:?}");
        }
        // The outline of a certificate (SEQUENCE of SEQUENCE, SEQUENCE, BIT STRING) with
        // nothing in it is not one: the stack's own parser reads the contents too.
        assert!(!is_certificate_der(&[
            0x30, 0x07, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00
        ]));
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[test]
    fn every_mozilla_root_is_read_as_a_certificate() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100);
        for der in roots {
            assert!(is_certificate_der(der.as_ref()));
        }
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    #[test]
    fn without_tls_https_and_roots_are_refused() {
        assert!(check_scheme("https://x", Some("https")).is_err());
        assert!(check_scheme("http://x", Some("http")).is_ok());
        // A root certificate, or roots other than the default, need TLS too: a client built
        // with one is refused, even for a plain http base URL.
        let builder = || {
            crate::FilesClient::builder()
                .api_key("sk-test")
                .base_url("http://127.0.0.1:1/api/v1")
        };
        assert!(builder().build().is_ok());
        let pem = b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
        let refused = builder().add_root_certificate(pem).build().unwrap_err();
        assert!(
            matches!(&refused, Error::Config(m) if m.contains("need TLS")),
            "{refused}"
        );
        #[cfg(feature = "platform-roots")]
        assert!(matches!(
            builder().tls_roots(TlsRoots::Platform).build(),
            Err(Error::Config(_))
        ));
    }
}
