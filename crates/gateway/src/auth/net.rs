//! Who is on the other end: is the transport secure, and which address to throttle.
//!
//! `X-Forwarded-*` headers are believed only from a trusted proxy (loopback by default);
//! otherwise any client could claim to be on HTTPS or to come from another address.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;

// Built once: a lookup by `&str` parses and copies the name on every request.
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// An address block such as `127.0.0.0/8` or `::1/128` (a bare address is a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// A block from an address and a prefix length (clamped to the address size).
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        IpNet {
            addr,
            prefix: prefix.min(max),
        }
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("not an IP address: {addr}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length: {p}"))?,
            None => max,
        };
        Ok(IpNet::new(addr, prefix))
    }
}

/// The default trusted proxies: loopback.
pub fn loopback_nets() -> Vec<IpNet> {
    vec![
        IpNet::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8),
        IpNet::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 128),
    ]
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

/// Whether a connection counts as secure for bearer tokens: TLS itself, a loopback peer, or a
/// trusted proxy saying `X-Forwarded-Proto: https`.
///
/// A trusted proxy that forwards a plain-HTTP request (`X-Forwarded-Proto: http`) is not
/// secure even when it is itself on loopback: the real client is on the far side.
pub fn is_secure(
    tls: bool,
    peer: Option<IpAddr>,
    forwarded_proto: Option<&str>,
    proxies: &[IpNet],
) -> bool {
    if tls {
        return true;
    }
    let Some(peer) = peer.map(|p| p.to_canonical()) else {
        return false;
    };
    if trusted(peer, proxies)
        && let Some(proto) = forwarded_proto
    {
        let first = proto.split(',').next().unwrap_or("").trim();
        return first.eq_ignore_ascii_case("https");
    }
    peer.is_loopback()
}

/// [`is_secure`] for an actix request.
pub fn request_is_secure(req: &HttpRequest, proxies: &[IpNet]) -> bool {
    let proto = req
        .headers()
        .get(&X_FORWARDED_PROTO)
        .and_then(|v| v.to_str().ok());
    is_secure(
        req.app_config().secure(),
        req.peer_addr().map(|a| a.ip()),
        proto,
        proxies,
    )
}

/// The client address to throttle: the peer, or, behind trusted proxies, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    proxies: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let Some(list) = forwarded_for else {
        return Some(peer);
    };
    let mut last = peer;
    for entry in list.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                let ip = ip.to_canonical();
                if !trusted(ip, proxies) {
                    return Some(ip);
                }
                last = ip;
            }
            // An unparsable hop ends what can be believed.
            Err(_) => break,
        }
    }
    Some(last)
}

/// [`client_ip`] for an actix request.
pub fn request_client_ip(req: &HttpRequest, proxies: &[IpNet]) -> Option<IpAddr> {
    let xff = req
        .headers()
        .get(&X_FORWARDED_FOR)
        .and_then(|v| v.to_str().ok());
    client_ip(req.peer_addr().map(|a| a.ip()), xff, proxies)
}
