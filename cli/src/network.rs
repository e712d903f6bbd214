//! What the tool takes from a company network: the machine's trust store plus `--ca-cert`
//! (or `OPENROUTER_CA_CERT`), as curl takes `--cacert` and `SSL_CERT_FILE`; the proxy of
//! `--proxy`, none with `--no-proxy`, else the environment's as curl reads it; and `-v`.

use openrouter_files::{FilesClientBuilder, TlsRoots};

use crate::args::Api;
use crate::failure::Failure;

/// `builder` set up to trust the platform's store and the CA file the options name, with the
/// proxy they choose.
pub fn configure(
    mut builder: FilesClientBuilder,
    global: &Api,
) -> Result<FilesClientBuilder, Failure> {
    builder = builder.tls_roots(TlsRoots::Platform);
    // An empty OPENROUTER_CA_CERT counts as unset.
    let from_env = || {
        let path = std::env::var_os("OPENROUTER_CA_CERT")?;
        Some(std::path::PathBuf::from(path)).filter(|p| !p.as_os_str().is_empty())
    };
    if let Some(path) = global.ca_cert.clone().or_else(from_env) {
        let pem = openrouter_files::read_pem_file(&path).map_err(|e| {
            Failure::usage(format!(
                "cannot read the CA certificate file {}: {e}",
                path.display()
            ))
        })?;
        builder = builder.add_root_certificate(pem);
    }
    if let Some(proxy) = &global.proxy {
        builder = builder.proxy(proxy);
    } else if global.no_proxy {
        builder = builder.no_proxy();
    }
    if global.verbose {
        let secret = crate::commands::api_key();
        builder = builder.observer(crate::verbose::observer(global.json, secret));
    }
    Ok(builder)
}
