//! Reverse DNS of the sending addresses: a PTR record at the reverse name (RFC 1035 §3.5,
//! RFC 3596 §2.5) whose host name resolves back to the same address (forward-confirmed reverse
//! DNS), and whether that name looks like a generic consumer-line name.

use std::net::IpAddr;

use inkan_dns::RecordType;
use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::report::{Category, Check, Status};

/// The rules reverse DNS is evidence for.
pub const RULES: &[&str] = &["gmail.ptr", "yahoo.ptr", "apple.bulk.ptr"];

/// At most this many PTR names are confirmed forward.
const MAX_PTR_NAMES: usize = 10;

/// The reverse-lookup name of `ip`: `4.3.2.1.in-addr.arpa` or nibbles under `ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// True when `host` looks like a name given to every address of an access network: it embeds
/// the address, or its first labels say dynamic, dhcp, pool, dsl and the like.
pub fn looks_generic(host: &str, ip: IpAddr) -> bool {
    let host = host.to_ascii_lowercase();
    if let IpAddr::V4(v4) = ip {
        let o = v4.octets();
        let forms = [
            format!("{}-{}-{}-{}", o[0], o[1], o[2], o[3]),
            format!("{}-{}-{}-{}", o[3], o[2], o[1], o[0]),
            format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]),
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0]),
            format!("{:03}{:03}{:03}{:03}", o[0], o[1], o[2], o[3]),
            format!("{:02x}{:02x}{:02x}{:02x}", o[0], o[1], o[2], o[3]),
            format!("{}", u32::from(v4)),
        ];
        if forms.iter().any(|f| host.contains(f.as_str())) {
            return true;
        }
    }
    const WORDS: &[&str] = &[
        "dynamic",
        "dyn",
        "dhcp",
        "pool",
        "dsl",
        "adsl",
        "vdsl",
        "xdsl",
        "cable",
        "ppp",
        "pppoe",
        "dialup",
        "dial",
        "broadband",
        "residential",
        "customer",
        "cust",
        "client",
        "unassigned",
        "generic",
    ];
    let labels: Vec<&str> = host.split('.').collect();
    let leading = &labels[..labels.len().saturating_sub(2)];
    leading.iter().any(|label| {
        label
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|word| WORDS.contains(&word))
    })
}

/// One `ptr.fcrdns` check per sending address, or one skipped check when none was given.
pub async fn check(lookup: &Lookup<'_>, ips: &[IpAddr]) -> Vec<Check> {
    if ips.is_empty() {
        return vec![Check::new(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Skip,
            RULES,
            "no --sending-ip given: reverse DNS of the sending servers was not checked",
        )];
    }
    futures::future::join_all(ips.iter().map(|ip| check_one(lookup, *ip))).await
}

async fn check_one(lookup: &Lookup<'_>, ip: IpAddr) -> Check {
    let reverse = reverse_name(ip);
    let answer = match lookup.get(&reverse, RecordType::Ptr).await {
        Ok(a) => a,
        Err(e) => {
            return Check::new("ptr.fcrdns", Category::Ptr, Status::Unknown, RULES, format!("the PTR lookup for {ip} failed ({})", e.kind))
                .evidence(json!({ "ip": ip.to_string(), "reverse_name": reverse, "error": error_evidence(&e) }));
        }
    };
    let names: Vec<String> = answer
        .names()
        .take(MAX_PTR_NAMES)
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Check::new("ptr.fcrdns", Category::Ptr, Status::Fail, RULES, format!("{ip} has no PTR record"))
            .evidence(json!({ "ip": ip.to_string(), "reverse_name": reverse, "ptr": [] }))
            .fix(format!("ask whoever runs {ip} (hosting provider or ISP) to set its PTR record to the server's host name, and give that name an address record pointing to {ip}"));
    }
    let rtype = if ip.is_ipv4() {
        RecordType::A
    } else {
        RecordType::Aaaa
    };
    let forward = futures::future::join_all(names.iter().map(|n| lookup.get(n, rtype))).await;
    let mut confirmed = None;
    let mut unknown = None;
    let mut seen = serde_json::Map::new();
    for (name, result) in names.iter().zip(&forward) {
        match result {
            Ok(a) => {
                let addrs: Vec<IpAddr> = a
                    .ipv4()
                    .map(IpAddr::V4)
                    .chain(a.ipv6().map(IpAddr::V6))
                    .collect();
                seen.insert(
                    name.clone(),
                    json!(addrs.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
                );
                if confirmed.is_none() && addrs.contains(&ip) {
                    confirmed = Some(name.clone());
                }
            }
            Err(e) => {
                seen.insert(name.clone(), error_evidence(e));
                unknown.get_or_insert(e.kind);
            }
        }
    }
    let evidence =
        json!({ "ip": ip.to_string(), "reverse_name": reverse, "ptr": names, "forward": seen });
    match (confirmed, unknown) {
        (Some(host), _) if looks_generic(&host, ip) => Check::new(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Warn,
            RULES,
            format!("{ip} → {host} → {ip} is confirmed, but the name looks generic (like a consumer line)"),
        )
        .evidence(evidence)
        .fix(format!("give {ip} a PTR name of its own under your domain, e.g. mail.<your domain>")),
        (Some(host), _) => Check::new(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Pass,
            RULES,
            format!("{ip} → {host} → {ip}: forward-confirmed reverse DNS"),
        )
        .evidence(evidence),
        (None, Some(kind)) => Check::new(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Unknown,
            RULES,
            format!("{ip} has a PTR record, but its name could not be resolved ({kind})"),
        )
        .evidence(evidence),
        (None, None) => Check::new(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Fail,
            RULES,
            format!("{ip} → {} does not resolve back to {ip}", names[0]),
        )
        .evidence(evidence)
        .fix(format!("publish {} {} {ip} so that the PTR name resolves back", names[0], rtype.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.5".parse().unwrap()),
            "5.2.0.192.in-addr.arpa"
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0."), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.ip6.arpa"), "{v6}");
    }

    #[test]
    fn generic_names() {
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        assert!(looks_generic("1-2-3-4.dynamic.isp.example", ip));
        assert!(looks_generic("host4-3-2-1.isp.example", ip));
        assert!(looks_generic("dsl-pool.isp.example", ip));
        assert!(looks_generic("cpe-001002003004.isp.example", ip));
        assert!(!looks_generic("mail.example.com", ip));
        assert!(
            !looks_generic("mx1.dynamic.example", ip),
            "the registered domain itself is not judged"
        );
        assert!(!looks_generic("outbound-3.mailer.example", ip));
    }
}
