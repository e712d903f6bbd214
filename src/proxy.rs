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
//! - `no_proxy` or `NO_PROXY`: hosts reached directly, separated by commas (or spaces): `*`
//!   for every host; a name matches itself and its subdomains (`example.com` and
//!   `.example.com` both match `example.com` and `api.example.com`); an IP address matches
//!   itself, and `10.0.0.0/8` (CIDR) every address in it; IPv6 with or without brackets (a
//!   port after a bracketed one, `[::1]:8443`, is ignored, as after a name). An entry that
//!   cannot be a name, an address or a network (`10.0.0.0/33`, `host/8`, `user:pw@host`) is
//!   ignored, as curl never matches it; the others still apply.
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
        let host = uri.host()?;
        (!self.bypass.iter().any(|b| b.matches(host))).then_some(route)
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
/// `None` when neither is set.
pub(crate) fn environment_bypass(var: impl Fn(&str) -> Option<String>) -> Option<Vec<Bypass>> {
    first_set(var, &["no_proxy", "NO_PROXY"]).map(|(_, list)| parse_bypass(&list))
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

/// The entries of a `no_proxy` list, in order; those that cannot be a name, an address or a
/// network are left out (curl never matches them).
pub(crate) fn parse_bypass(list: &str) -> Vec<Bypass> {
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            if entry == "*" {
                return Some(Bypass::All);
            }
            // No host has an `@`: this is a URL's credentials, pasted by mistake; kept, it
            // would show in `Debug`.
            if entry.contains('@') {
                return None;
            }
            let (address, bits) = match entry.split_once('/') {
                Some((address, bits)) => (address, Some(bits.parse::<u8>().ok()?)),
                None => (entry, None),
            };
            // `[::1]:8443`: a port after a bracketed address is ignored, as curl ignores it.
            let address = match address.strip_prefix('[').and_then(|a| a.split_once(']')) {
                Some((inner, _port)) => inner,
                None => address,
            };
            if let Some(ip) = parse_ip(address) {
                let max = max_bits(ip) as u8;
                let bits = bits.unwrap_or(max);
                return (bits <= max).then_some(Bypass::Network(ip, bits));
            }
            if bits.is_some() {
                return None;
            }
            // A `:port` after a name is ignored, as curl ignores it.
            let name = entry.split(':').next().unwrap_or(entry);
            let name = name.trim_start_matches('*').trim_start_matches('.');
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (!name.is_empty()).then_some(Bypass::Domain(name))
        })
        .collect()
}

/// How many bits an address of `ip`'s family has.
fn max_bits(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// An IP address, IPv6 with or without brackets.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse().ok()
}

impl Bypass {
    fn matches(&self, host: &str) -> bool {
        match self {
            Bypass::All => true,
            Bypass::Network(network, bits) => {
                parse_ip(host).is_some_and(|ip| same_prefix(ip, *network, *bits))
            }
            Bypass::Domain(domain) => {
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                host == *domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
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
                "example.com, .corp.internal,10.0.0.0/8 ::1,192.168.1.7,localhost:8080",
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

    #[test]
    fn a_bracketed_address_with_a_port_in_no_proxy_is_the_address_as_curl_reads_it() {
        let p = vars(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", "[::1]:8443,[fe80::1]"),
        ]);
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
            let p = with(choice, Some(" *, "), &env);
            assert_eq!(through(&p, "http://anything/"), None);
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
        let list = format!("{},10.0.0.1,{}", INVALID.join(" "), INVALID.join(","));
        let parsed = parse_bypass(&list);
        assert_eq!(format!("{parsed:?}"), "[10.0.0.1]");
        let parsed = parse_bypass("*.Example.COM., [fe80::1]:8443, fe80::/10 0.0.0.0/0, *");
        assert_eq!(
            format!("{parsed:?}"),
            "[example.com, fe80::1, fe80::/10, 0.0.0.0/0, *]"
        );
        let parsed = parse_bypass("a\u{1b}[2Jb.example");
        assert_eq!(format!("{parsed:?}"), r"[a\u{1b}[2jb.example]");
    }

    /// Entries no host can match: each is left out of a list.
    const INVALID: [&str; 16] = [
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
            0 => ("*".into(), Meant::All),
            1..=3 => {
                let name = NAMES[rng.below(NAMES.len())];
                let name_text = match rng.below(3) {
                    0 => name.to_ascii_uppercase(),
                    1 => name[..1].to_ascii_uppercase() + &name[1..],
                    _ => name.to_string(),
                };
                let text = format!(
                    "{}{name_text}{}{}",
                    rng.pick(&["", ".", "*."]),
                    rng.pick(&["", "."]),
                    rng.pick(&["", ":8080", ":443"])
                );
                (text, Meant::Name(name))
            }
            4..=7 => {
                let v6 = rng.below(2) == 0;
                let ip: IpAddr = match v6 {
                    true => V6[rng.below(V6.len())].parse().unwrap(),
                    false => V4[rng.below(V4.len())].parse().unwrap(),
                };
                let max = max_bits(ip);
                let bits = (rng.below(2) == 0).then(|| rng.below(max as usize + 1) as u32);
                let address = match (v6, rng.below(3)) {
                    (true, 0) => format!("[{ip}]"),
                    (true, 1) if bits.is_none() => format!("[{ip}]:8443"),
                    _ => ip.to_string(),
                };
                let text = match bits {
                    Some(bits) => format!("{address}/{bits}"),
                    None => address,
                };
                (text, Meant::Network(ip, bits.unwrap_or(max)))
            }
            _ => (INVALID[rng.below(INVALID.len())].into(), Meant::Nothing),
        }
    }

    const HOSTS: [&str; 28] = [
        "example.com",
        "api.example.com",
        "corp.internal",
        "b.corp.internal",
        "a.b.corp.internal",
        "localhost",
        "xn--bcher-kva.example",
        "notexample.com",
        "example.com.evil",
        "EXAMPLE.com",
        "Api.Example.Com.",
        "internal",
        "com",
        "10.0.0.0",
        "10.1.2.3",
        "10.200.0.1",
        "11.0.0.1",
        "192.168.1.7",
        "192.168.1.70",
        "127.0.0.1",
        "255.255.255.255",
        "::1",
        "::2",
        "fe80::1",
        "fe80::ffff:1",
        "2001:db8::5",
        "2001:db8:8000::1",
        "::ffff:10.1.2.3",
    ];

    /// Whether an entry meaning `meant` covers `host`, worked out apart from the module: names
    /// by their labels, networks bit by bit.
    fn covers(meant: &Meant, host: &str) -> bool {
        match meant {
            Meant::All => true,
            Meant::Nothing => false,
            Meant::Name(name) => {
                let host = host.trim_end_matches('.').to_ascii_lowercase();
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
            for i in 0..rng.below(6) {
                if i > 0 {
                    list.push_str(rng.pick(&[",", ", ", " ", ",,", "\t", " , "]));
                }
                let (text, meaning) = draw_entry(&mut rng);
                list.push_str(&text);
                meant.push(meaning);
            }
            list.push_str(rng.pick(&["", " ", ","]));
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
            for host in HOSTS {
                let url = match host.contains(':') {
                    true => format!("https://[{host}]/"),
                    false => format!("https://{host}/"),
                };
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
