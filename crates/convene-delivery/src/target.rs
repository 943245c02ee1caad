//! Where outbound calls may go. Every address a host resolves to is checked at delivery time (DNS
//! can change between registration and delivery), and the caller connects only to checked
//! addresses, so a rebinding answer cannot slip in between check and connect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// `CONVENE_ALLOW_PRIVATE_TARGETS`: tests and on-premises peers.
    pub allow_private: bool,
    /// Host names that may resolve to non-public addresses (matched case-insensitively, exactly).
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{host} resolves to {addr}, which is not a public address (allow it with CONVENE_ALLOW_PRIVATE_TARGETS or the host allowlist)"
    )]
    NonPublic { host: String, addr: IpAddr },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
}

impl TargetPolicy {
    pub fn check(&self, host: &str, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if addrs.is_empty() {
            return Err(Refusal::NoAddress {
                host: host.to_owned(),
            });
        }
        let trusted = self.allow_private
            || self.allowed_hosts.iter().any(|h| {
                h.trim_end_matches('.')
                    .eq_ignore_ascii_case(host.trim_end_matches('.'))
            });
        match addrs.iter().find(|a| !trusted && !is_public(**a)) {
            Some(addr) => Err(Refusal::NonPublic {
                host: host.to_owned(),
                addr: *addr,
            }),
            None => Ok(()),
        }
    }
}

/// Whether an address is globally reachable: not loopback, private, shared, link-local (cloud
/// metadata lives there), documentation, benchmarking, multicast, reserved or unspecified,
/// including IPv4 addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

const NON_PUBLIC_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, incl. 169.254.169.254 metadata
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation
    ([203, 0, 113, 0], 24),  // documentation
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, incl. broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4
        .iter()
        .any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

const NON_PUBLIC_V6: &[([u16; 8], u32)] = &[
    ([0x0064, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64
    ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),      // discard
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),      // IETF protocol assignments, incl. Teredo
    ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),      // documentation
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),       // unique local, incl. fd00:ec2::254 metadata
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),      // link-local
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),      // site-local (deprecated)
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),       // multicast
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }
    !NON_PUBLIC_V6
        .iter()
        .any(|(net, prefix)| in_v6(ip, *net, *prefix))
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), well-known NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if bits >> 32 == 0 && bits > 1 {
        return Some(low32);
    }
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return Some(low32);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for addr in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "100::1",
        ] {
            assert!(!public(addr), "{addr} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "93.184.215.14",
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "192.169.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(public(addr), "{addr} is public");
        }
    }

    #[test]
    fn every_resolved_address_must_pass_unless_trusted() {
        let policy = TargetPolicy::default();
        let mixed = ["8.8.8.8".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let err = policy.check("rebind.example", &mixed).unwrap_err();
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
        assert!(matches!(
            policy.check("x.example", &[]),
            Err(Refusal::NoAddress { .. })
        ));
        let listed = TargetPolicy {
            allowed_hosts: vec!["Hooks.Internal.".into()],
            ..TargetPolicy::default()
        };
        assert!(listed.check("hooks.internal", &mixed).is_ok());
        assert!(listed.check("other.internal", &mixed).is_err());
        let open = TargetPolicy {
            allow_private: true,
            ..TargetPolicy::default()
        };
        assert!(open.check("localhost", &mixed).is_ok());
    }

    proptest! {
        #[test]
        fn a_mapped_address_is_judged_as_its_ipv4(raw in any::<u32>()) {
            let v4 = Ipv4Addr::from(raw);
            prop_assert_eq!(is_public(IpAddr::V6(v4.to_ipv6_mapped())), is_public(IpAddr::V4(v4)));
        }
    }
}
