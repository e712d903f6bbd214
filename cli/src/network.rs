//! What the tool takes from a company network: the machine's trust store plus `--ca-cert`
//! (or `OPENROUTER_CA_CERT`), as curl takes `--cacert` and `SSL_CERT_FILE`; the proxy of
//! `--proxy`, none with `--no-proxy`, else the environment's as curl reads it, and for either
//! proxy the hosts reached directly, `--noproxy`'s or else `no_proxy`'s, as curl's `-x` and
//! `--noproxy` do; and `-v`.

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
    // `--noproxy '*'` is `--no-proxy`: no proxy is even read, as with curl. Only a list that
    // is `*` and nothing else: curl reads `' *'` or `'a,*'` as naming no host for `*`.
    let star = |list: &str| list == "*";
    if global.no_proxy || global.bypass.as_deref().is_some_and(star) {
        builder = builder.no_proxy();
    } else {
        if let Some(proxy) = &global.proxy {
            // The library's own proxy ignores the environment; curl's `-x` honours
            // `no_proxy`. (For the environment's proxies the library reads it itself.)
            builder = builder.proxy(proxy).proxy_bypass_from_env();
        }
        // `--noproxy` replaces the environment's list, for either proxy.
        if let Some(list) = &global.bypass {
            builder = builder.proxy_bypass(list);
        }
    }
    if global.verbose {
        let secret = crate::commands::api_key();
        builder = builder.observer(crate::verbose::observer(global.json, secret));
    }
    Ok(builder)
}
