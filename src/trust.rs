//! Which roots the client trusts: [`TlsRoots`], and the platform's store read as a list of
//! certificates (feature `platform-roots`), so that roots added on the builder extend it on
//! either TLS stack.

/// The roots a client trusts, besides those added with
/// [`add_root_certificate`](crate::FilesClientBuilder::add_root_certificate) (which every
/// choice trusts as well). Set with [`tls_roots`](crate::FilesClientBuilder::tls_roots).
///
/// ```
/// use openrouter_files::{FilesClient, TlsRoots};
///
/// let client = FilesClient::builder()
///     .api_key("sk-or-v1-…")
///     .tls_roots(TlsRoots::Mozilla)
///     .build()?;
/// # Ok::<(), openrouter_files::Error>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsRoots {
    /// The stack's own choice (the default): Mozilla's roots with rustls; with native-tls the
    /// platform's store, or Mozilla's roots once a root is added (see the crate docs, "TLS").
    #[default]
    Default,
    /// Mozilla's roots (the `webpki-root-certs` crate, built in), whichever the stack.
    Mozilla,
    /// What the machine trusts: the platform's store, read when the client is built
    /// (`rustls-native-certs`): on Linux and other Unix systems the certificates named by
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` when either is set (and then only those, as OpenSSL
    /// and curl do), else the system bundle OpenSSL would use (`/etc/ssl/certs`, …); the
    /// keychain on macOS; the system store on Windows. A private CA installed there, or named
    /// by `SSL_CERT_FILE`, is trusted. [`build`](crate::FilesClientBuilder::build) fails with
    /// [`Error::Config`](crate::Error::Config) when the store yields no certificate.
    #[cfg(feature = "platform-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "platform-roots")))]
    Platform,
}

/// The certificates of the platform's store, in DER. Fails when there is none: a client that
/// trusts nothing would fail on every call with a less helpful message.
#[cfg(all(
    feature = "platform-roots",
    any(feature = "rustls", feature = "native-tls")
))]
pub(crate) fn platform_certificates() -> crate::Result<Vec<ureq::tls::Certificate<'static>>> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        log::debug!("reading the platform's trust store: {error}");
    }
    if found.certs.is_empty() {
        let why = match found.errors.first() {
            Some(error) => format!(": {error}"),
            None => String::new(),
        };
        return Err(crate::Error::Config(format!(
            "the platform's trust store holds no certificate{why}"
        )));
    }
    Ok(found
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}
