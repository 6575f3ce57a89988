//! Listen addresses as Toxiproxy reads them: `host:port`, where the host may
//! be a name (`localhost`), an IP, `[v6]`, or empty for every interface, and
//! the port may be 0 or empty for one the OS picks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A listen address with its host resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The host's address; `None` for every interface.
    pub(crate) ip: Option<IpAddr>,
    /// The port; 0 for one the OS picks.
    pub(crate) port: u16,
}

impl Resolved {
    /// The address to bind: an empty host is every interface, IPv6 (which
    /// takes IPv4 too) as in Go.
    pub(crate) fn bind(self) -> SocketAddr {
        let ip = self.ip.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        SocketAddr::new(ip, self.port)
    }

    /// The same address on IPv4's every interface, for hosts without IPv6.
    pub(crate) fn bind_v4(self) -> Option<SocketAddr> {
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        self.ip.is_none().then(|| SocketAddr::new(any, self.port))
    }

    /// The address as Go writes a resolved one (`:8474` for every
    /// interface), to compare with the address a proxy listens on.
    pub(crate) fn written(self) -> String {
        match self.ip {
            Some(ip) => SocketAddr::new(ip, self.port).to_string(),
            None => format!(":{}", self.port),
        }
    }
}

/// Resolves `address`; a name's IPv4 address is preferred, as in Go.
pub(crate) async fn resolve(address: &str) -> Result<Resolved, String> {
    let (host, port) = split(address)?;
    let ip = match host {
        "" => None,
        literal if literal.parse::<IpAddr>().is_ok() => literal.parse().ok(),
        name => Some(lookup(name, port).await?),
    };
    Ok(Resolved { ip, port })
}

async fn lookup(name: &str, port: u16) -> Result<IpAddr, String> {
    let found: Vec<IpAddr> = tokio::net::lookup_host((name, port))
        .await
        .map_err(|error| format!("lookup {name}: {error}"))?
        .map(|address| address.ip())
        .collect();
    let first = found.iter().find(|ip| ip.is_ipv4()).or(found.first());
    first
        .copied()
        .ok_or_else(|| format!("lookup {name}: no such host"))
}

/// Splits `host:port` as Go's `net.SplitHostPort` does. An empty address
/// (a proxy given no `listen`, or a misspelt one) is any port on loopback,
/// where Toxiproxy's Go takes every interface: a typo never exposes a proxy.
fn split(address: &str) -> Result<(&str, u16), String> {
    if address.is_empty() {
        return Ok(("127.0.0.1", 0));
    }
    let fail = |why: &str| format!("address {address}: {why}");
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| fail("missing ']' in address"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| fail("missing port in address"))?;
        (host, port)
    } else {
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| fail("missing port in address"))?;
        if host.contains(':') {
            return Err(fail("too many colons in address"));
        }
        (host, port)
    };
    let port = match port {
        "" => 0,
        digits => digits.parse().map_err(|_| fail("unknown port"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hosts_resolve_as_go_resolves_them() {
        let local = resolve("localhost:0").await.unwrap();
        assert_eq!(local.written(), "127.0.0.1:0");
        assert_eq!(resolve(":8474").await.unwrap().written(), ":8474");
        assert_eq!(resolve("[::1]:80").await.unwrap().written(), "[::1]:80");
        assert_eq!(
            resolve("127.0.0.1:").await.unwrap().written(),
            "127.0.0.1:0"
        );
        let every = resolve(":5").await.unwrap();
        assert_eq!(every.bind().to_string(), "[::]:5");
        assert_eq!(
            every.bind_v4().map(|a| a.to_string()).as_deref(),
            Some("0.0.0.0:5")
        );
        let nothing = resolve("").await.unwrap();
        assert_eq!(
            nothing.bind().to_string(),
            "127.0.0.1:0",
            "loopback, any port"
        );
    }

    #[tokio::test]
    async fn a_bad_address_says_what_is_wrong_with_it() {
        assert_eq!(
            resolve("localhost").await.unwrap_err(),
            "address localhost: missing port in address"
        );
        assert_eq!(
            resolve("::1:80").await.unwrap_err(),
            "address ::1:80: too many colons in address"
        );
        assert_eq!(
            resolve("host:http").await.unwrap_err(),
            "address host:http: unknown port"
        );
    }
}
