//! Host and Origin patterns (`MCP_ALLOWED_HOSTS`, `MCP_ALLOWED_ORIGINS`) and the headers they
//! are matched against, parsed once at start-up by [`crate::config`] and used by the HTTP
//! guard. A leaf module: it imports nothing of this crate.

use std::net::IpAddr;

/// The host names accepted by default, with any port.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// An entry of `MCP_ALLOWED_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`: any Host (for deployments where a proxy already checks it).
    Any,
    /// A name or address, with the only port it accepts or `None` for any port.
    Name { host: String, port: Option<u16> },
}

/// The port part of an [`OriginPattern`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortPattern {
    Any,
    Exact(u16),
}

/// An entry of `MCP_ALLOWED_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// `*`: any Origin.
    Any,
    /// `null`: the opaque origin browsers send from sandboxed frames and files.
    Null,
    /// `scheme://host[:port]`; no port means the scheme's default, `:*` any port.
    Tuple {
        scheme: String,
        host: String,
        port: PortPattern,
    },
}

/// An `Origin` header as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

fn valid_host_chars(host: &str, ipv6: bool) -> bool {
    !host.is_empty()
        && host.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') || (ipv6 && c == ':')
        })
}

/// Split `host[:port]` (IPv6 in brackets, or bare when there is no port) into a lower-case host
/// without brackets and the port.
pub fn split_authority(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    let (host, port, ipv6) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (host, port, true)
    } else if s.matches(':').count() > 1 {
        (s, None, true)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p), false),
            None => (s, None, false),
        }
    };
    if !valid_host_chars(host, ipv6) {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Parse one `MCP_ALLOWED_HOSTS` entry: `*`, `name`, `name:port`, `[v6]` or `[v6]:port`.
pub fn parse_host_pattern(s: &str) -> Result<HostPattern, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(HostPattern::Any);
    }
    if s.contains("://") || s.contains('/') {
        return Err(
            "list host names (or host:port) without a scheme or path, e.g. mcp.example.com".into(),
        );
    }
    split_authority(s)
        .map(|(host, port)| HostPattern::Name { host, port })
        .ok_or_else(|| {
            "not a host name or host:port, e.g. mcp.example.com or mcp.example.com:443".into()
        })
}

fn split_scheme(s: &str) -> Option<(String, &str)> {
    let (scheme, rest) = s.split_once("://")?;
    let ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then(|| (scheme.to_ascii_lowercase(), rest))
}

/// Parse one `MCP_ALLOWED_ORIGINS` entry: `*`, `null` or `scheme://host[:port|:*]`.
pub fn parse_origin_pattern(s: &str) -> Result<OriginPattern, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(OriginPattern::Any);
    }
    if s.eq_ignore_ascii_case("null") {
        return Ok(OriginPattern::Null);
    }
    const EXAMPLE: &str =
        "e.g. https://app.example.com, https://app.example.com:8443 or http://localhost:*";
    let Some((scheme, rest)) = split_scheme(s) else {
        return Err(format!("an origin needs a scheme, {EXAMPLE}"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') || rest.contains('@') {
        return Err(format!("an origin has no path or user, {EXAMPLE}"));
    }
    let (authority, any_port) = match rest.strip_suffix(":*") {
        Some(a) => (a, true),
        None => (rest, false),
    };
    let Some((host, port)) = split_authority(authority) else {
        return Err(format!("not a valid origin, {EXAMPLE}"));
    };
    let port = match (any_port, port) {
        (true, None) => PortPattern::Any,
        (true, Some(_)) => return Err(format!("give a port or :*, not both, {EXAMPLE}")),
        (false, Some(p)) => PortPattern::Exact(p),
        (false, None) => match default_port(&scheme) {
            Some(p) => PortPattern::Exact(p),
            None => return Err(format!("give a port for scheme {scheme}, {EXAMPLE}")),
        },
    };
    Ok(OriginPattern::Tuple { scheme, host, port })
}

pub fn parse_origin_header(s: &str) -> Option<Origin> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("null") {
        return Some(Origin::Null);
    }
    let (scheme, rest) = split_scheme(s)?;
    if rest.contains('/') || rest.contains('@') {
        return None;
    }
    let (host, port) = split_authority(rest)?;
    Some(Origin::Tuple { scheme, host, port })
}

/// Whether a bind address only accepts connections from this machine.
pub fn is_loopback_bind(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a bind address is a wildcard (every interface).
pub fn is_wildcard_bind(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        assert_eq!(parse_host_pattern("*"), Ok(HostPattern::Any));
        assert_eq!(
            parse_host_pattern("MCP.Example.com:8443"),
            Ok(HostPattern::Name {
                host: "mcp.example.com".into(),
                port: Some(8443)
            })
        );
        assert_eq!(
            parse_host_pattern("[::1]"),
            Ok(HostPattern::Name {
                host: "::1".into(),
                port: None
            })
        );
        for bad in [
            "https://x.example",
            "x.example/path",
            "x.example:99999",
            "",
            "a b",
            "x:",
        ] {
            assert!(parse_host_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_patterns() {
        assert_eq!(
            parse_origin_pattern("https://app.example.com"),
            Ok(OriginPattern::Tuple {
                scheme: "https".into(),
                host: "app.example.com".into(),
                port: PortPattern::Exact(443)
            })
        );
        assert_eq!(
            parse_origin_pattern("http://localhost:*"),
            Ok(OriginPattern::Tuple {
                scheme: "http".into(),
                host: "localhost".into(),
                port: PortPattern::Any
            })
        );
        assert_eq!(parse_origin_pattern("null"), Ok(OriginPattern::Null));
        for bad in [
            "app.example.com",
            "https://a.example/x",
            "https://a.example:1:*",
            "foo://a.example",
        ] {
            assert!(parse_origin_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_and_wildcard_binds() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback_bind(h), "{h}");
        }
        for h in ["0.0.0.0", "::", "10.0.0.1", "example.com"] {
            assert!(!is_loopback_bind(h), "{h}");
        }
        assert!(is_wildcard_bind("0.0.0.0") && is_wildcard_bind("[::]"));
        assert!(!is_wildcard_bind("127.0.0.1"));
    }
}
