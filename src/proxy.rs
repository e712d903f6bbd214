//! Which proxy each request goes through: the one set on the builder, none, or the
//! environment's, read as curl reads it. The choice is made per request URL (a redirect to
//! another host is judged again), and ureq is given it per request, so ureq's own reading of
//! the environment (which differs from curl's) never applies.
//!
//! The environment, as curl reads it:
//! - an `http` URL uses `http_proxy` (lower case only: `HTTP_PROXY` can be set by a CGI
//!   request's `Proxy:` header), an `https` URL `https_proxy` or `HTTPS_PROXY`; either falls
//!   back to `all_proxy` or `ALL_PROXY`. An empty variable counts as unset. A value without a
//!   scheme is an HTTP proxy (`proxy.corp:3128`); a client whose base URL is https (it never
//!   follows a redirect to http) does not read the http one, so a malformed `http_proxy` does
//!   not stop it, as it does not stop curl.
//! - `no_proxy` or `NO_PROXY` (an empty one counts as unset, a blank one names no host):
//!   hosts reached directly, as curl's `Curl_check_noproxy` reads the list. `*` alone is
//!   every host; entries are separated by commas (with blanks around them; an entry followed
//!   by a blank and no comma ends the list, as in curl). A name matches itself and its
//!   subdomains (`example.com` and `.example.com` both match `example.com` and
//!   `api.example.com`, in any case, with or without a trailing dot); an IP address (IPv6
//!   without brackets) matches itself, and `10.0.0.0/8` every address in it (`/0` is the
//!   whole address, as in curl). A host that is an address (`127.1` and `0x7f.1` are
//!   127.0.0.1, as curl's URL parser and the resolver read them; a zone id is left out) is
//!   matched by addresses and networks only, a name by names only. An entry no host can
//!   match (`*.example.com`, `localhost:8080`, `[::1]`, `10.0.0.0/33`, `host/8`,
//!   `user:pw@host`, a `*` beside other entries) is ignored, as curl never matches it; the
//!   others still apply.
//!
//! The builder's bypass list ([`FilesClientBuilder::proxy_bypass`]) is read by the same parser
//! and replaces the environment's `no_proxy` for every proxy, as curl's `--noproxy` does; a
//! proxy set on the builder without one reaches every host through the proxy.
//!
//! [`FilesClientBuilder::proxy_bypass`]: crate::FilesClientBuilder::proxy_bypass

use std::fmt;
use std::net::IpAddr;

use ureq::Proxy;

use crate::error::{Error, Result};

/// Where the builder's proxy setting came from.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxyChoice {
    /// The environment, as curl reads it (the default).
    #[default]
    Environment,
    /// This URL for every request.
    Url(String),
    /// No proxy at all.
    Off,
}

/// Shows a proxy URL without its credentials.
impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::Url(url) => write!(f, "Url({:?})", crate::userinfo::hide_userinfo(url)),
            ProxyChoice::Off => f.write_str("Off"),
        }
    }
}

/// A proxy a request may go through: what ureq is given, and how messages name it.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) proxy: Proxy,
    /// `scheme://host:port`, never the credentials.
    pub(crate) shown: String,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The proxies of a client: one for `http` URLs, one for `https` URLs, and the hosts that
/// bypass them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proxies {
    http: Option<Route>,
    https: Option<Route>,
    bypass: Vec<Bypass>,
}

impl Proxies {
    /// The proxies `choice` names, reading the process environment for
    /// [`ProxyChoice::Environment`], with the hosts of `bypass` reached directly: a list set on
    /// the builder, which replaces the environment's `no_proxy` (`None`: the environment's
    /// for its proxies, none for a proxy set on the builder). Fails with [`Error::Config`] on
    /// a proxy URL that is not one (naming the variable or the setting, never its
    /// credentials). An `https_only` client (its base URL is https; it never follows a
    /// redirect to http) reads no variable for http URLs, as curl reads none for an https one.
    pub(crate) fn new(
        choice: &ProxyChoice,
        bypass: Option<&[Bypass]>,
        https_only: bool,
    ) -> Result<Proxies> {
        Proxies::with_vars(choice, bypass, https_only, |name| std::env::var(name).ok())
    }

    /// [`Proxies::new`] with `var` reading the environment.
    fn with_vars(
        choice: &ProxyChoice,
        bypass: Option<&[Bypass]>,
        https_only: bool,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Proxies> {
        let mut proxies = match choice {
            ProxyChoice::Off => return Ok(Proxies::default()),
            ProxyChoice::Url(url) => {
                let route = route(url, "the proxy")?;
                Proxies {
                    http: Some(route.clone()),
                    https: Some(route),
                    bypass: Vec::new(),
                }
            }
            ProxyChoice::Environment => Proxies::from_vars(var, https_only)?,
        };
        if let Some(bypass) = bypass {
            proxies.bypass = bypass.to_vec();
        }
        Ok(proxies)
    }

    /// The environment's proxies by curl's rules (see the module docs), `var` reading one
    /// variable; none for http URLs when `https_only`.
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        https_only: bool,
    ) -> Result<Proxies> {
        let first = |names: &[&'static str]| first_set(&var, names);
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let pick = |names: &[&'static str]| -> Result<Option<Route>> {
            match first(names).or_else(|| all.clone()) {
                Some((name, value)) => route(value.trim(), name).map(Some),
                None => Ok(None),
            }
        };
        Ok(Proxies {
            http: match https_only {
                true => None,
                false => pick(&["http_proxy"])?,
            },
            https: pick(&["https_proxy", "HTTPS_PROXY"])?,
            bypass: environment_bypass(&var).unwrap_or_default(),
        })
    }

    /// The proxy a request to `url` goes through, if any.
    pub(crate) fn for_url(&self, url: &str) -> Option<&Route> {
        let uri = url.parse::<ureq::http::Uri>().ok()?;
        let route = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
            "http" => self.http.as_ref()?,
            "https" => self.https.as_ref()?,
            _ => return None,
        };
        let host = Host::of(uri.host()?);
        (!self.bypass.iter().any(|b| b.matches(&host))).then_some(route)
    }
}

/// The [`Error::Proxy`] for a request to `method path` that failed with `source` while going
/// through `route`, when the failure is the proxy's refusal to open the tunnel; `None` for
/// any other failure.
pub(crate) fn refusal(
    source: &ureq::Error,
    route: Option<&Route>,
    method: &'static str,
    path: &str,
) -> Option<Error> {
    let (ureq::Error::ConnectProxyFailed(why), Some(route)) = (source, route) else {
        return None;
    };
    // ureq says "proxy server responded 407/407", or that it did not respond.
    let status = why
        .split_once("responded ")
        .and_then(|(_, rest)| rest.split(['/', ' ']).next()?.parse::<u16>().ok());
    let reason = match status {
        Some(status) => {
            let name = ureq::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            format!("it answered CONNECT with HTTP {status} {name}")
                .trim_end()
                .to_string()
        }
        None => why.clone(),
    };
    Some(Error::Proxy {
        method,
        path: path.to_string(),
        proxy: route.shown.clone(),
        status,
        reason,
    })
}

/// A proxy URL as ureq takes it, checked: a scheme ureq speaks (`http`, `https`, `socks4`,
/// `socks4a`, `socks5`, `socks5h`; none means `http`) and a host.
fn route(url: &str, what: &str) -> Result<Route> {
    let shown = crate::userinfo::hide_userinfo(url).into_owned();
    let bad = |why: &str| Error::Config(format!("{what} {shown:?} {why}"));
    let proxy = Proxy::new(url).map_err(|_| {
        bad("is not a proxy URL (http://, https://, socks4://, socks4a://, socks5:// or socks5h://)")
    })?;
    if proxy.host().is_empty() {
        return Err(bad("has no host"));
    }
    // A port that is not a u16 would silently become the scheme's default port.
    if let Some(authority) = proxy.uri().authority() {
        let host_port = authority.as_str().rsplit('@').next().unwrap_or_default();
        let after_host = host_port
            .rsplit_once(']')
            .map_or(host_port, |(_, rest)| rest);
        if after_host.contains(':') && authority.port_u16().is_none() {
            return Err(bad("has a port that is not a number from 0 to 65535"));
        }
    }
    let scheme = proxy
        .uri()
        .scheme_str()
        .unwrap_or("http")
        .to_ascii_lowercase();
    let shown = format!("{scheme}://{}:{}", proxy.host(), proxy.port());
    Ok(Route { proxy, shown })
}

/// The first of the variables `names` that `var` finds set, with its value; an empty or blank
/// value counts as unset, as curl counts it.
fn first_set(
    var: impl Fn(&str) -> Option<String>,
    names: &[&'static str],
) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| {
        var(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    })
}

/// The environment's list of hosts reached directly, `no_proxy` or else `NO_PROXY`, parsed;
/// `None` when neither is set. As for curl, an empty variable is unset, but a blank one is a
/// list that names no host (it does not give way to `NO_PROXY`).
pub(crate) fn environment_bypass(var: impl Fn(&str) -> Option<String>) -> Option<Vec<Bypass>> {
    ["no_proxy", "NO_PROXY"]
        .iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()))
        .map(|list| parse_bypass(&list))
}

/// One entry of a `no_proxy` list (the environment's or the builder's).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Bypass {
    All,
    /// A host name, in lower case, without leading dots: itself and its subdomains.
    Domain(String),
    /// An address and how many leading bits must match (all of them for a plain address).
    Network(IpAddr, u8),
}

/// In `no_proxy`'s syntax: `*`, `example.com`, `10.0.0.0/8`, `::1` (a whole address without
/// its length).
impl fmt::Debug for Bypass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bypass::All => f.write_str("*"),
            // Escaped: a control character in a list must not reach a terminal raw.
            Bypass::Domain(name) => write!(f, "{}", name.escape_debug()),
            Bypass::Network(ip, bits) if u32::from(*bits) == max_bits(*ip) => write!(f, "{ip}"),
            Bypass::Network(ip, bits) => write!(f, "{ip}/{bits}"),
        }
    }
}

/// The entries of a `no_proxy` list, in order, read as curl's `Curl_check_noproxy` reads
/// them: `*` is every host only when it is the whole list; entries are separated by commas,
/// with blanks (spaces, tabs) around them, and an entry followed by a blank but no comma ends
/// the list (curl reads `a b,c` as `a`). Entries no host can match are left out: a name with
/// `*`, a `:port` or an `@`, a bracketed address, a bad network (`10.0.0.0/33`, `host/8`).
pub(crate) fn parse_bypass(list: &str) -> Vec<Bypass> {
    if list == "*" {
        return vec![Bypass::All];
    }
    let blank = |c: char| c == ' ' || c == '\t';
    let mut entries = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches(blank);
        let end = rest
            .find(|c: char| blank(c) || c == ',')
            .unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        entries.extend(parse_entry(token));
        rest = after.trim_start_matches(blank);
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start_matches(','),
            None => break,
        }
    }
    entries
}

/// One entry of a list (see [`parse_bypass`]), `None` when it matches no host.
fn parse_entry(entry: &str) -> Option<Bypass> {
    if entry.is_empty() {
        return None;
    }
    // An address, or a network: curl reads the length as digits up to 128, `/0` (or none)
    // as the whole address.
    if let Some((address, bits)) = entry.split_once('/') {
        let ip = address.parse::<IpAddr>().ok()?;
        if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let bits = match bits.trim_start_matches('0') {
            "" => 0,
            digits => digits.parse::<u32>().ok()?,
        };
        let max = max_bits(ip);
        return match bits {
            0 => Some(Bypass::Network(ip, max as u8)),
            bits if bits <= max => Some(Bypass::Network(ip, bits as u8)),
            _ => None,
        };
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(Bypass::Network(ip, max_bits(ip) as u8));
    }
    // A name: one trailing dot and then one leading dot are not part of it. No host name
    // holds `*`, `:` (a port, which curl does not strip), `[` first (a bracketed address,
    // which curl never matches) or `@` (a URL's credentials, pasted by mistake: kept, it
    // would show in `Debug`).
    let name = entry.strip_suffix('.').unwrap_or(entry);
    let name = name.strip_prefix('.').unwrap_or(name);
    if name.is_empty() || name.contains(['*', ':', '@']) || name.starts_with('[') {
        return None;
    }
    Some(Bypass::Domain(name.to_ascii_lowercase()))
}

/// How many bits an address of `ip`'s family has.
fn max_bits(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// A URL's host as curl matches it against a list: an address (IPv6 without its brackets
/// and zone id; IPv4 in any numeric form the resolver takes, `127.1`, `0x7f.1`,
/// `2130706433`, which curl's URL parser rewrites as `127.0.0.1`), or a name.
enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

impl Host<'_> {
    fn of(host: &str) -> Host<'_> {
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let address = inner.split('%').next().unwrap_or(inner);
            return match address.parse() {
                Ok(ip) => Host::Ip(ip),
                Err(_) => Host::Name(host),
            };
        }
        match inet_aton(host) {
            Some(v4) => Host::Ip(IpAddr::V4(v4)),
            None => Host::Name(host),
        }
    }
}

/// `text` as an IPv4 address in the forms `inet_aton` (and so the resolver ureq connects
/// with) takes: one to four parts, each decimal, octal (`0` first) or hex (`0x`), the last
/// filling the bytes the others leave.
fn inet_aton(text: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(4);
    for part in &parts {
        let (digits, radix) = match part.get(..2) {
            Some("0x" | "0X") => (&part[2..], 16),
            _ if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
            _ => (*part, 10),
        };
        // `0x` alone is 0 to inet_aton; no sign, no empty part.
        let value = match digits {
            "" if radix == 16 => 0,
            _ if !digits.bytes().all(|b| b.is_ascii_hexdigit()) => return None,
            _ => u32::from_str_radix(digits, radix).ok()?,
        };
        values.push(value);
    }
    let (last, first) = values.split_last()?;
    if first.iter().any(|v| *v > 255) || u64::from(*last) >= 1u64 << (8 * (4 - first.len())) {
        return None;
    }
    let high = first
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, v)| acc | v << (24 - 8 * i));
    Some(std::net::Ipv4Addr::from(high | last))
}

impl Bypass {
    fn matches(&self, host: &Host<'_>) -> bool {
        match (self, host) {
            (Bypass::All, _) => true,
            (Bypass::Network(network, bits), Host::Ip(ip)) => same_prefix(*ip, *network, *bits),
            (Bypass::Domain(domain), Host::Name(name)) => {
                // One trailing dot is not part of the name; the name is the domain or ends
                // with `.` and the domain, in any case.
                let name = name.strip_suffix('.').unwrap_or(name).as_bytes();
                let domain = domain.as_bytes();
                match name.len().checked_sub(domain.len()) {
                    Some(0) => name.eq_ignore_ascii_case(domain),
                    Some(cut) => name[cut - 1] == b'.' && name[cut..].eq_ignore_ascii_case(domain),
                    None => false,
                }
            }
            _ => false,
        }
    }
}

/// Whether `a` and `b` are of one family and agree on their first `bits` bits.
fn same_prefix(a: IpAddr, b: IpAddr, bits: u8) -> bool {
    let (a, b, len) = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = len - u32::from(bits.min(len as u8));
    shift >= len || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Proxies {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_vars(
            |name| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            },
            false,
        )
        .unwrap()
    }

    fn through<'a>(proxies: &'a Proxies, url: &str) -> Option<&'a str> {
        proxies.for_url(url).map(|r| r.shown.as_str())
    }

    #[test]
    fn each_scheme_takes_its_own_variable_then_all_proxy_as_curl_does() {
        let p = vars(&[
            ("https_proxy", "http://s:1"),
            ("http_proxy", "h:2"),
            ("ALL_PROXY", "socks5h://a:3"),
        ]);
        assert_eq!(through(&p, "https://x/api"), Some("http://s:1"));
        assert_eq!(through(&p, "http://x/api"), Some("http://h:2"));
        let p = vars(&[("ALL_PROXY", "socks5://a:3")]);
        assert_eq!(through(&p, "https://x/"), Some("socks5://a:3"));
        assert_eq!(through(&p, "http://x/"), Some("socks5://a:3"));
        let p = vars(&[("HTTPS_PROXY", "http://S:1"), ("https_proxy", "http://s:1")]);
        assert_eq!(
            through(&p, "https://x/"),
            Some("http://s:1"),
            "lower case first"
        );
    }

    #[test]
    fn upper_case_http_proxy_and_empty_variables_are_ignored() {
        let p = vars(&[("HTTP_PROXY", "http://evil:1"), ("https_proxy", " ")]);
        assert_eq!(through(&p, "http://x/"), None);
        assert_eq!(through(&p, "https://x/"), None);
    }

    #[test]
    fn no_proxy_matches_names_with_their_subdomains_addresses_and_networks() {
        let p = vars(&[
            ("https_proxy", "http://p:1"),
            (
                "no_proxy",
                "example.com, .corp.internal,10.0.0.0/8, ::1,192.168.1.7,localhost",
            ),
        ]);
        for direct in [
            "https://example.com/",
            "https://API.Example.com./",
            "https://corp.internal/",
            "https://a.b.corp.internal/",
            "https://10.20.30.40/",
            "https://[::1]:8443/",
            "https://192.168.1.7/",
            "https://localhost/",
        ] {
            assert_eq!(through(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://notexample.com/",
            "https://example.com.evil/",
            "https://11.0.0.1/",
            "https://192.168.1.70/",
            "https://[::2]/",
        ] {
            assert_eq!(through(&p, proxied), Some("http://p:1"), "{proxied}");
        }
        let p = vars(&[("https_proxy", "http://p:1"), ("NO_PROXY", "*")]);
        assert_eq!(through(&p, "https://anything/"), None);
    }

    #[test]
    fn a_bad_proxy_url_is_a_config_error_that_hides_its_credentials() {
        let err = Proxies::from_vars(
            |name| (name == "HTTPS_PROXY").then(|| "ftp://user:hunter2@p:1".to_string()),
            true,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(text.contains("HTTPS_PROXY"), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("user"),
            "{text}"
        );
    }

    #[test]
    fn an_explicit_proxy_serves_every_url_and_off_none() {
        let p = Proxies::new(
            &ProxyChoice::Url("http://u:pw@127.0.0.1:3128".into()),
            None,
            false,
        )
        .unwrap();
        assert_eq!(through(&p, "https://x/"), Some("http://127.0.0.1:3128"));
        assert_eq!(through(&p, "http://x/"), Some("http://127.0.0.1:3128"));
        assert!(!format!("{p:?}").contains("pw"));
        let choice = ProxyChoice::Url("http://u:pw@127.0.0.1:3128".into());
        assert_eq!(
            format!("{choice:?}"),
            r#"Url("http://[redacted]@127.0.0.1:3128")"#
        );
        let p = Proxies::new(&ProxyChoice::Off, None, false).unwrap();
        assert_eq!(through(&p, "https://x/"), None);
    }

    #[test]
    fn prefixes_compare_only_their_bits() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(same_prefix(ip("10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(!same_prefix(ip("11.1.2.3"), ip("10.0.0.0"), 8));
        assert!(same_prefix(ip("1.2.3.4"), ip("9.9.9.9"), 0));
        assert!(!same_prefix(ip("::1"), ip("0.0.0.1"), 0));
        assert!(same_prefix(ip("fe80::1"), ip("fe80::"), 64));
    }

    #[test]
    fn a_port_out_of_range_is_a_config_error_not_port_80() {
        for url in ["http://u:pw@p:99999", "p:65536", "socks5h://p:1x"] {
            let err = Proxies::new(&ProxyChoice::Url(url.into()), None, false).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        let p = Proxies::new(&ProxyChoice::Url("p:65535".into()), None, false).unwrap();
        assert_eq!(through(&p, "https://x/"), Some("http://p:65535"));
    }

    /// curl's list takes IPv6 addresses without brackets ("Enter IPv6 numerical addresses
    /// in the list of hostnames without enclosing brackets"): a bracketed one matches nothing.
    #[test]
    fn an_address_in_no_proxy_is_written_without_brackets_as_for_curl() {
        let p = env_list("[::1]:8443,[fe80::1]");
        assert_eq!(through(&p, "https://[::1]:8443/"), Some("http://p:1"));
        assert_eq!(through(&p, "https://[fe80::1]/"), Some("http://p:1"));
        let p = env_list("::1,fe80::1");
        assert_eq!(through(&p, "https://[::1]:8443/"), None);
        assert_eq!(through(&p, "https://[::1]/"), None);
        assert_eq!(through(&p, "https://[fe80::1]/"), None);
        assert_eq!(through(&p, "https://[::2]/"), Some("http://p:1"));
    }

    /// `Proxies::with_vars` with the variables of `pairs`.
    fn with(choice: &ProxyChoice, bypass: Option<&str>, pairs: &[(&str, &str)]) -> Proxies {
        let bypass = bypass.map(parse_bypass);
        Proxies::with_vars(choice, bypass.as_deref(), false, |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn a_bypass_list_replaces_the_environments_no_proxy_for_its_proxies_and_the_builders() {
        let env = [("https_proxy", "http://e:1"), ("NO_PROXY", "example.com")];
        let explicit = ProxyChoice::Url("http://p:1".into());
        // No list: the environment's for its proxies, none for the builder's.
        let p = with(&ProxyChoice::Environment, None, &env);
        assert_eq!(through(&p, "https://api.example.com/"), None);
        let p = with(&explicit, None, &env);
        assert_eq!(through(&p, "https://api.example.com/"), Some("http://p:1"));
        // A list replaces the environment's, an empty one with nothing.
        for choice in [&ProxyChoice::Environment, &explicit] {
            let p = with(choice, Some("10.0.0.0/8"), &env);
            assert!(through(&p, "https://api.example.com/").is_some());
            assert_eq!(through(&p, "https://10.1.2.3/"), None);
            let p = with(choice, Some(""), &env);
            assert!(through(&p, "https://example.com/").is_some());
            let p = with(choice, Some("*"), &env);
            assert_eq!(through(&p, "http://anything/"), None);
            let p = with(choice, Some(" *, "), &env);
            assert!(through(&p, "https://anything/").is_some());
        }
        // No proxy at all, list or not.
        let p = with(&ProxyChoice::Off, Some(""), &env);
        assert_eq!(through(&p, "https://x/"), None);
    }

    #[test]
    fn entries_that_cannot_be_a_name_an_address_or_a_network_are_ignored_the_rest_apply() {
        for entry in INVALID {
            assert_eq!(parse_bypass(entry), [], "{entry}");
        }
        let list = format!("{},10.0.0.1,{}", INVALID.join(","), INVALID.join(" , "));
        let parsed = parse_bypass(&list);
        assert_eq!(format!("{parsed:?}"), "[10.0.0.1]");
        let parsed = parse_bypass(".Example.COM., fe80::1, fe80::/10, 0.0.0.0/1,0.0.0.0/0, *");
        assert_eq!(
            format!("{parsed:?}"),
            "[example.com, fe80::1, fe80::/10, 0.0.0.0/1, 0.0.0.0]"
        );
        let parsed = parse_bypass("a\u{1b}[2Jb.example");
        assert_eq!(format!("{parsed:?}"), r"[a\u{1b}[2jb.example]");
        let parsed = parse_bypass("a\u{2028}b\u{202e}c\nd");
        assert_eq!(format!("{parsed:?}"), r"[a\u{2028}b\u{202e}c\nd]");
    }

    /// `Proxies` with `https_proxy` set and `no_proxy` = `list`.
    fn env_list(list: &str) -> Proxies {
        vars(&[("https_proxy", "http://p:1"), ("no_proxy", list)])
    }

    /// curl's `Curl_check_noproxy` (lib/proxy.c, its unit test 1614): `*` bypasses every host
    /// only when it is the whole list; an entry `*`, `*.example.com`, `name:port` or
    /// `[::1]` matches no host; the list ends at an entry followed by a blank and no comma;
    /// `/0` is the whole address; a length is digits only.
    #[test]
    fn lists_are_read_as_curl_reads_them() {
        // (list, host, direct)
        let cases: &[(&str, &str, bool)] = &[
            ("*", "example.org", true),
            ("corp.example, *", "example.org", false),
            ("corp.example,*", "corp.example", true),
            (" *", "example.org", false),
            ("*.example.com", "api.example.com", false),
            ("*.example.com", "example.com", false),
            ("localhost:8080", "localhost", false),
            ("[::1]", "[::1]", false),
            ("[::1]:8443", "[::1]", false),
            ("::1", "[::1]", true),
            (
                "localhost .example.com .example.de",
                "www.example.com",
                false,
            ),
            ("localhost .example.com .example.de", "localhost", true),
            (
                "localhost,.example.com,.example.de",
                "www.example.com",
                true,
            ),
            ("foo,,,,,              bar, ::1/64", "BAr", true),
            ("192.168.0.0/16 ", "192.168.0.1", true),
            ("0.0.0.0/0", "10.1.2.3", false),
            ("0.0.0.0/0", "0.0.0.0", true),
            ("::/0", "[::1]", false),
            ("10.0.0.0/+8", "10.1.2.3", false),
            ("10.0.0.0/0008", "10.1.2.3", true),
            ("192.168.0.0/32", "192.168.0.1", false),
            ("nexample.com", "example.com", false),
            ("example.com", "nexample.com", false),
            ("www.example.com.", "www.example.com", true),
            (".example.com", "example.com.", true),
            ("..example.com", "www.example.com", false),
            ("example.com", "example.com..", false),
        ];
        for (list, host, direct) in cases {
            let p = env_list(list);
            let url = format!("https://{host}/");
            assert_eq!(p.for_url(&url).is_none(), *direct, "{list:?} for {host}");
        }
    }

    /// curl reads `no_proxy` when it is set and not empty: a blank one (`" "`) names no host
    /// and does not give way to `NO_PROXY`.
    #[test]
    fn a_blank_no_proxy_names_no_host_and_hides_upper_case_no_proxy_as_in_curl() {
        let p = vars(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", " "),
            ("NO_PROXY", "*"),
        ]);
        assert_eq!(through(&p, "https://example.org/"), Some("http://p:1"));
        let p = vars(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", ""),
            ("NO_PROXY", "*"),
        ]);
        assert_eq!(through(&p, "https://example.org/"), None);
    }

    /// A host is judged as the address it connects to: the numeric IPv4 forms the resolver
    /// takes (`127.1`, `0x7f.1`, `2130706433`, `0177.0.0.1`) are 127.0.0.1, as curl's URL
    /// parser makes them; an IPv6 zone id is not part of the address; an address is matched
    /// by addresses and networks only, never by a name's tail (`1` is no suffix of 10.0.0.1).
    #[test]
    fn hosts_are_judged_as_the_address_they_reach() {
        let p = env_list("127.0.0.0/8, fe80::/10");
        for host in [
            "127.1",
            "0x7f.1",
            "2130706433",
            "0177.0.0.1",
            "0X7F.0.0.1",
            "[fe80::1%25eth0]",
        ] {
            assert_eq!(
                through(&p, &format!("https://{host}:8443/")),
                None,
                "{host}"
            );
        }
        for host in [
            "0128.0.0.1",
            "127.0.0.1.1",
            "1.2.3.4294967296",
            "128.0.0.1",
            "[fe00::1%25x]",
        ] {
            assert!(through(&p, &format!("https://{host}/")).is_some(), "{host}");
        }
        for (list, host) in [
            ("0.1", "10.0.0.1"),
            ("1", "10.0.0.1"),
            ("10.0.0.1:80", "10.0.0.1"),
        ] {
            assert!(
                through(&env_list(list), &format!("https://{host}/")).is_some(),
                "{list}"
            );
        }
    }

    /// Entries no host can match: each is left out of a list.
    const INVALID: [&str; 25] = [
        "10.0.0.0/33",
        "::1/129",
        "10.0.0.1/x",
        "10.0.0.1/",
        "10.0.0.0/8/8",
        "1.2.3.4/-1",
        "host/8",
        "example.com/16",
        "*/8",
        "/8",
        "user:pw@example.com",
        "pw@localhost",
        "http://u:p@10.1.2.3:1/",
        ".",
        "*.",
        "..",
        "*.example.com",
        "*example.com",
        "localhost:8080",
        "[::1]",
        "[::1]:8443",
        "[10.0.0.1]",
        "10.0.0.0/+8",
        "::1/18446744073709551616",
        "10.0.0.1/99999999999999999999999999",
    ];

    /// splitmix64, seeded, so that a failing case can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// What a drawn entry means, known when it is drawn.
    #[derive(Debug)]
    enum Meant {
        All,
        Name(&'static str),
        Network(IpAddr, u32),
        Nothing,
    }

    const NAMES: [&str; 6] = [
        "example.com",
        "api.example.com",
        "corp.internal",
        "b.corp.internal",
        "localhost",
        "xn--bcher-kva.example",
    ];
    const V4: [&str; 5] = [
        "10.0.0.0",
        "10.1.2.3",
        "192.168.1.7",
        "127.0.0.1",
        "0.0.0.0",
    ];
    const V6: [&str; 5] = ["::1", "fe80::", "fe80::1", "2001:db8::", "2001:db8:8000::1"];

    /// An entry as someone might write it, and what it means.
    fn draw_entry(rng: &mut Rng) -> (String, Meant) {
        match rng.below(10) {
            // `*` is every host only as the whole list (see the list's drawing).
            0 => ("*".into(), Meant::Nothing),
            1..=3 => {
                let name = NAMES[rng.below(NAMES.len())];
                let name_text = match rng.below(3) {
                    0 => name.to_ascii_uppercase(),
                    1 => name[..1].to_ascii_uppercase() + &name[1..],
                    _ => name.to_string(),
                };
                let (before, after, port) = (
                    rng.pick(&["", ".", "*.", "*"]),
                    rng.pick(&["", "."]),
                    rng.pick(&["", "", ":8080", ":443"]),
                );
                let text = format!("{before}{name_text}{after}{port}");
                // curl strips neither a `*` nor a port: such an entry matches no host.
                match before.contains('*') || !port.is_empty() {
                    true => (text, Meant::Nothing),
                    false => (text, Meant::Name(name)),
                }
            }
            4..=7 => {
                let v6 = rng.below(2) == 0;
                let ip: IpAddr = match v6 {
                    true => V6[rng.below(V6.len())].parse().unwrap(),
                    false => V4[rng.below(V4.len())].parse().unwrap(),
                };
                let max = max_bits(ip);
                let bits = (rng.below(2) == 0).then(|| rng.below(max as usize + 1) as u32);
                // curl takes no brackets in the list.
                let (address, bracketed) = match (v6, rng.below(3)) {
                    (true, 0) => (format!("[{ip}]"), true),
                    (true, 1) if bits.is_none() => (format!("[{ip}]:8443"), true),
                    _ => (ip.to_string(), false),
                };
                // A length as curl reads it: digits (leading zeros too), `/0` the whole
                // address; a sign or a length past 128 is no length.
                let (text, bits) = match bits {
                    Some(bits) => match rng.below(4) {
                        0 => (format!("{address}/00{bits}"), Some(bits)),
                        1 => (format!("{address}/+{bits}"), None),
                        2 => (format!("{address}/{}", u64::MAX - bits as u64), None),
                        _ => (format!("{address}/{bits}"), Some(bits)),
                    },
                    None => (address, Some(max)),
                };
                match (bracketed, bits) {
                    (false, Some(0)) => (text, Meant::Network(ip, max)),
                    (false, Some(bits)) => (text, Meant::Network(ip, bits)),
                    _ => (text, Meant::Nothing),
                }
            }
            _ => (INVALID[rng.below(INVALID.len())].into(), Meant::Nothing),
        }
    }

    /// Hosts as a URL writes them, and the name or address each reaches (curl's URL parser
    /// and the resolver read numeric IPv4 forms alike; a zone id is not part of an address).
    const HOSTS: [(&str, &str); 39] = [
        ("example.com", "example.com"),
        ("api.example.com", "api.example.com"),
        ("corp.internal", "corp.internal"),
        ("b.corp.internal", "b.corp.internal"),
        ("a.b.corp.internal", "a.b.corp.internal"),
        ("localhost", "localhost"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example.", "xn--bcher-kva.example"),
        ("notexample.com", "notexample.com"),
        ("example.com.evil", "example.com.evil"),
        ("EXAMPLE.com", "example.com"),
        ("Api.Example.Com.", "api.example.com"),
        ("internal", "internal"),
        ("com", "com"),
        ("10.0.0.0", "10.0.0.0"),
        ("10.1.2.3", "10.1.2.3"),
        ("012.1.2.3", "10.1.2.3"),
        ("167838211", "10.1.2.3"),
        ("10.0x1.0x203", "10.1.2.3"),
        ("10.200.0.1", "10.200.0.1"),
        ("11.0.0.1", "11.0.0.1"),
        ("192.168.1.7", "192.168.1.7"),
        ("192.168.1.70", "192.168.1.70"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("[0:0::1]", "::1"),
        ("[::2]", "::2"),
        ("[fe80::1]", "fe80::1"),
        ("[fe80::1%25eth0]", "fe80::1"),
        ("[fe80::ffff:1]", "fe80::ffff:1"),
        ("[2001:db8::5]", "2001:db8::5"),
        ("[2001:db8:8000::1]", "2001:db8:8000::1"),
        ("[::ffff:10.1.2.3]", "::ffff:10.1.2.3"),
    ];

    /// Whether an entry meaning `meant` covers `host`, worked out apart from the module: names
    /// by their labels, networks bit by bit.
    fn covers(meant: &Meant, host: &str) -> bool {
        match meant {
            Meant::All => true,
            Meant::Nothing => false,
            Meant::Name(_) if host.parse::<IpAddr>().is_ok() => false,
            Meant::Name(name) => {
                let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
                let labels: Vec<&str> = host.split('.').collect();
                let wanted: Vec<&str> = name.split('.').collect();
                labels.ends_with(&wanted)
            }
            Meant::Network(network, bits) => {
                let Ok(ip) = host.parse::<IpAddr>() else {
                    return false;
                };
                let octets = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => v4.octets().to_vec(),
                    IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                let (a, b) = (octets(ip), octets(*network));
                let bit = |o: &[u8], i: u32| o[i as usize / 8] >> (7 - i % 8) & 1;
                a.len() == b.len() && (0..*bits).all(|i| bit(&a, i) == bit(&b, i))
            }
        }
    }

    /// Generated lists (names written with dots, stars, ports and capitals; addresses and
    /// networks with or without brackets; entries nothing can match; every separator): the
    /// builder's list, beside a proxy of its own or the environment's (whose `no_proxy` it
    /// replaces), and the same list in `no_proxy` send exactly the hosts its entries cover
    /// direct, and its `Debug` text reads back as the same list. `HOSTILE_CASES` lists
    /// (default 2000), seeded by `HOSTILE_SEED`.
    #[test]
    fn generated_bypass_lists_send_the_hosts_their_entries_cover_direct_by_every_path() {
        let cases = std::env::var("HOSTILE_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000usize);
        let seed = std::env::var("HOSTILE_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x5EED_0011u64);
        let mut rng = Rng(seed ^ 0xB1FA55);
        let explicit = ProxyChoice::Url("http://p:1".into());
        for case in 0..cases {
            let mut list = String::from(rng.pick(&["", " ", ","]));
            let mut meant = Vec::new();
            // curl's list ends at an entry followed by blanks and no comma.
            let mut ended = false;
            for i in 0..rng.below(6) {
                if i > 0 {
                    let separator = rng.pick(&[",", ", ", " ", ",,", "\t", " , ", ", \t,"]);
                    list.push_str(separator);
                    ended |= !separator.contains(',');
                }
                let (text, meaning) = draw_entry(&mut rng);
                list.push_str(&text);
                if !ended {
                    meant.push(meaning);
                }
            }
            list.push_str(rng.pick(&["", " ", ","]));
            // `*` is every host when it is the whole list.
            if rng.below(20) == 0 {
                list = "*".into();
            }
            if list == "*" {
                meant = vec![Meant::All];
            }
            let what = format!("case {case} (seed {seed}): {list:?} = {meant:?}");
            let env = [("https_proxy", "http://e:1"), ("no_proxy", "*")];
            let paths = [
                with(&explicit, Some(&list), &[]),
                with(&ProxyChoice::Environment, Some(&list), &env),
                with(
                    &ProxyChoice::Environment,
                    None,
                    &[("https_proxy", "http://e:1"), ("NO_PROXY", &list)],
                ),
            ];
            for (written, host) in HOSTS {
                let url = format!("https://{written}:8443/");
                let direct = meant.iter().any(|m| covers(m, host));
                for (path, proxies) in paths.iter().enumerate() {
                    assert_eq!(
                        proxies.for_url(&url).is_none(),
                        direct,
                        "{what}: {host} by path {path}"
                    );
                }
            }
            let parsed = parse_bypass(&list);
            let shown: Vec<String> = parsed.iter().map(|b| format!("{b:?}")).collect();
            assert_eq!(parse_bypass(&shown.join(",")), parsed, "{what}: {shown:?}");
        }
    }
}
