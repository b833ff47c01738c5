//! Where a webhook may point. Organisations name their own endpoints, and those receive AMBER and
//! RED advisories: an endpoint on the server's own network (`http://169.254.169.254/`, a
//! loopback port, an internal service) would turn the delivery worker into a way in, and plain
//! http would send the documents in clear text.
//!
//! Rules, unless the operator allows private endpoints (`--allow-private-webhooks`, for tests and
//! closed networks): `https` only; no user name or password in the URL; the host must not be, or
//! resolve to, a loopback, unspecified, link-local, private (RFC 1918, unique-local IPv6),
//! shared (100.64.0.0/10), multicast or broadcast address. The address check runs when the URL
//! is set (for address literals) and again at every delivery, inside the HTTP client's resolver
//! ([`CheckedResolver`]): the addresses checked are the ones connected to, so a DNS answer that
//! changes between the check and the connection (rebinding) gains nothing.

use std::net::IpAddr;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Whether an endpoint at this address is refused (see the module docs).
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_link_local()
                || v4.is_private()
                || v4.is_multicast()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xffc0) == 0xfe80
                || (first & 0xfe00) == 0xfc00
        }
    }
}

/// Checks a webhook URL as it is set; the reason when it is refused.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| t!("webhook-start-https"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(t!("webhook-use-https")),
        _ => return Err(t!("webhook-https-url")),
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(t!("webhook-credentials"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() {
        return Err(t!("webhook-no-host"));
    }
    if !allow_private
        && let Ok(ip) = host.parse::<IpAddr>()
        && forbidden(ip)
    {
        return Err(t!("webhook-private", ip = ip.to_string()));
    }
    Ok(())
}

/// The delivery client's resolver: the system's answer, refused when any address is forbidden.
#[derive(Debug, Default)]
pub struct CheckedResolver {
    inner: DefaultResolver,
    allow_private: bool,
}

impl CheckedResolver {
    pub fn new(allow_private: bool) -> Self {
        CheckedResolver { inner: DefaultResolver::default(), allow_private }
    }
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private
            && let Some(bad) = addresses.iter().find(|a| forbidden(a.ip()))
        {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("the webhook host resolves to a loopback, private or link-local address ({})", bad.ip()),
            )));
        }
        Ok(addresses)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for bad in
            ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1"]
        {
            assert!(forbidden(bad.parse().unwrap()), "{bad}");
        }
        for bad in ["fe80::1", "fd00::1", "::ffff:127.0.0.1", "224.0.0.1", "255.255.255.255"] {
            assert!(forbidden(bad.parse().unwrap()), "{bad}");
        }
        for good in ["198.51.100.7", "8.8.8.8", "2001:db8::1", "2606:4700::1111"] {
            assert!(!forbidden(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn urls_are_checked_as_set() {
        assert!(check_url("https://hooks.example/quell", false).is_ok());
        assert!(check_url("http://hooks.example/quell", false).is_err());
        assert!(check_url("http://hooks.example/quell", true).is_ok());
        assert!(check_url("https://user:secret@hooks.example/", false).is_err());
        assert!(check_url("https://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_url("https://[::1]:22/", false).is_err());
        assert!(check_url("https://127.0.0.1:8080/a", true).is_ok());
        assert!(check_url("ftp://hooks.example/", true).is_err());
    }

    #[test]
    fn the_resolver_refuses_names_of_private_addresses() {
        let agent: ureq::Agent = ureq::Agent::with_parts(
            ureq::Agent::config_builder().http_status_as_error(false).build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            CheckedResolver::new(false),
        );
        // `localhost` resolves to loopback: refused before any connection.
        let error = agent.post("http://localhost:9/").send(&b"{}"[..]).unwrap_err().to_string();
        assert!(error.contains("loopback, private or link-local"), "{error}");
    }
}
