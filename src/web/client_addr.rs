//! The client address of a request: the socket peer, or, when that peer is a trusted proxy,
//! the rightmost address in the forwarded-for header that is not itself a trusted proxy.
//!
//! Only the hops a trusted proxy appended can be believed: everything to their left was written
//! by the client and may be spoofed, so the walk stops at the first untrusted hop.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderName};
use ipnet::IpNet;

/// Longest forwarded-for header looked at: bounded work on an unauthenticated request.
const MAX_HEADER_BYTES: usize = 2048;

#[derive(Clone, Debug)]
pub struct ClientAddress {
    header: HeaderName,
    trusted: Vec<IpNet>,
}

impl ClientAddress {
    /// `header` defaults to X-Forwarded-For.
    pub fn new(header: Option<&str>, trusted: Vec<IpNet>) -> Self {
        let header =
            header.and_then(|h| HeaderName::try_from(h).ok()).unwrap_or(HeaderName::from_static("x-forwarded-for"));
        Self { header, trusted }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client address, from the peer recorded by the server (`ConnectInfo`) and the headers.
    pub fn resolve(&self, extensions: &Extensions, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| canonical(c.0.ip()))?;
        Some(self.from_peer(peer, headers))
    }

    pub fn from_peer(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        // Several header lines are one list, in order.
        let hops = headers
            .get_all(&self.header)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.len() <= MAX_HEADER_BYTES)
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev().take(32) {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(ip) => client = ip,
                Some(ip) => return ip,
                // Garbage in a hop a trusted proxy vouched for: the last believable address.
                None => return client,
            }
        }
        client
    }
}

/// An IPv4 address seen through an IPv6 socket counts as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(trusted: &[&str], peer: &str, xff: &[&str]) -> String {
        let a = ClientAddress::new(None, trusted.iter().map(|t| t.parse().unwrap()).collect());
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        a.from_peer(peer.parse().unwrap(), &h).to_string()
    }

    #[test]
    fn untrusted_peers_cannot_name_their_address() {
        assert_eq!(addr(&[], "203.0.113.9", &["198.51.100.1"]), "203.0.113.9");
        assert_eq!(addr(&["10.0.0.0/8"], "203.0.113.9", &["198.51.100.1"]), "203.0.113.9");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = &["10.0.0.0/8"];
        assert_eq!(addr(t, "10.0.0.2", &["6.6.6.6, 198.51.100.1"]), "198.51.100.1");
        assert_eq!(addr(t, "10.0.0.2", &["6.6.6.6, 198.51.100.1, 10.0.0.3"]), "198.51.100.1");
        assert_eq!(addr(t, "10.0.0.2", &["6.6.6.6", "198.51.100.1:4431"]), "198.51.100.1");
        assert_eq!(addr(t, "10.0.0.2", &["10.0.0.7"]), "10.0.0.7", "all hops trusted: the leftmost");
        assert_eq!(addr(t, "10.0.0.2", &[]), "10.0.0.2", "no header: the proxy itself");
        assert_eq!(addr(t, "10.0.0.2", &["nonsense, 10.0.0.5"]), "10.0.0.5");
        assert_eq!(addr(t, "::ffff:10.0.0.2", &["[2001:db8::1]:443"]), "2001:db8::1");
    }
}
