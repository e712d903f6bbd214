//! Which roots the client trusts: [`TlsRoots`], and the platform's store read as a list of
//! certificates (feature `platform-roots`), so that roots added on the builder extend it on
//! either TLS stack; and certificate files read within bounds ([`read_pem_file`]), so that a
//! FIFO, a device or a huge file named as one neither hangs nor fills the memory.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The largest certificate file read (a system's whole bundle is well under 1 MiB).
const MAX_FILE: u64 = 32 << 20;

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
    /// [`Error::Config`](crate::Error::Config) when the store yields no certificate. A client
    /// whose base URL is plain `http` (a local emulator) does not read the store at all.
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
    check_environment()?;
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        log::debug!("reading the platform's trust store: {error}");
    }
    if found.certs.is_empty() {
        let why = match found.errors.first() {
            Some(error) => format!(": {error}"),
            None => String::new(),
        };
        // When the environment chose the store, say so: the fault is the variable's.
        let chosen: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .filter_map(|name| {
                let value = std::env::var_os(name)?;
                Some(format!("{name}={}", Path::new(&value).display()))
            })
            .collect();
        let store = match chosen.is_empty() {
            true => String::new(),
            false => format!(" ({})", chosen.join(", ")),
        };
        return Err(crate::Error::Config(format!(
            "the platform's trust store{store} holds no certificate{why}"
        )));
    }
    Ok(found
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}

/// Reads a PEM file for [`add_root_certificate`](crate::FilesClientBuilder::add_root_certificate),
/// refusing, before reading anything, what is not a regular file (a FIFO would never end, a
/// device such as `/dev/zero` would never stop growing) or is larger than 32 MiB.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("ca-{}.pem", std::process::id()));
/// # std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n…")?;
/// let pem = openrouter_files::read_pem_file(&path)?;
/// let builder = openrouter_files::FilesClient::builder().add_root_certificate(pem);
///
/// # #[cfg(unix)]
/// let refused = openrouter_files::read_pem_file("/dev/zero").unwrap_err();
/// # #[cfg(unix)]
/// assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_pem_file(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let size = readable_size(&std::fs::metadata(path)?)?;
    let file = File::open(path)?;
    // Checked again on what was opened: the name may have changed hands in between.
    readable_size(&file.metadata()?)?;
    let mut pem = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_FILE + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > MAX_FILE {
        return Err(too_large());
    }
    Ok(pem)
}

/// The size of a certificate file, or why it cannot be one.
fn readable_size(meta: &Metadata) -> io::Result<u64> {
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a folder holds no certificate file)",
        ));
    }
    if meta.len() > MAX_FILE {
        return Err(too_large());
    }
    Ok(meta.len())
}

fn too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "larger than {} MiB, too large for certificates",
            MAX_FILE >> 20
        ),
    )
}

/// Refuses, before the platform's store is read, a `SSL_CERT_FILE`, or a file in a folder of
/// `SSL_CERT_DIR`, that [`read_pem_file`] would refuse: `rustls-native-certs` reads them
/// without bounds. Names it cannot read are left for it to report.
#[cfg(all(
    feature = "platform-roots",
    any(feature = "rustls", feature = "native-tls")
))]
fn check_environment() -> crate::Result<()> {
    let refuse = |variable: &str, path: &Path, why: io::Error| {
        crate::Error::Config(format!(
            "{variable} names {}, which is {why}",
            path.display()
        ))
    };
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        let path = Path::new(&file);
        if let Ok(meta) = std::fs::metadata(path) {
            readable_size(&meta).map_err(|why| refuse("SSL_CERT_FILE", path, why))?;
        }
    }
    let dirs = std::env::var_os("SSL_CERT_DIR").unwrap_or_default();
    for dir in std::env::split_paths(&dirs) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            // What the store reads: the regular files, symbolic links followed.
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    readable_size(&meta).map_err(|why| refuse("SSL_CERT_DIR", &path, why))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
