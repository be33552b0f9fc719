//! The MTA-STS policy file, fetched over HTTPS when asked (`--fetch-mta-sts`): is it served as
//! RFC 8461 §3.3 requires and valid per §3.2 (`mta-sts.policy`), how strict is its mode
//! (`mta-sts.mode`, §5), does it cover every MX host of the domain (`mta-sts.mx`, §4.1), and is
//! its `max_age` long enough to protect between fetches (`mta-sts.max-age`, §3.2).
//!
//! A timeout, a DNS failure or a 5xx answer makes the policy `unknown`; a configuration error
//! (no address, refused connection, bad certificate, redirect, wrong status or media type,
//! invalid policy) makes it `fail`. No provider rule requires MTA-STS: these checks carry no rule.

use inkan_dns::{RData, RecordType};
use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::mta_sts::{FetchError, Mode, Policy, PolicyFetcher, mx_matches, parse_policy};
use crate::report::{Category, Check, Status};

/// A `max_age` below this (one day) is warned: the policy lapses between most senders' fetches.
const SHORT_MAX_AGE: u64 = 86_400;
/// Shown bodies are cut to this many characters in the evidence.
const EVIDENCE_BODY: usize = 512;

/// The `id` tag of an MTA-STS TXT record, if it has a well-formed one.
fn txt_id(record: &str) -> Option<&str> {
    record
        .split(';')
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim() == "id")
        .map(|(_, v)| v.trim())
        .filter(|id| {
            !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The policy checks for `domain`. Without a `_mta-sts` TXT record senders never look for a
/// policy, so none is fetched.
pub async fn check(lookup: &Lookup<'_>, domain: &str, fetcher: &PolicyFetcher) -> Vec<Check> {
    let txt_name = format!("_mta-sts.{domain}");
    let url = fetcher.url(domain);
    let records = match lookup.txt(&txt_name).await {
        Ok(texts) => texts
            .into_iter()
            .filter(|t| t.starts_with("v=STSv1"))
            .collect::<Vec<_>>(),
        Err(e) => {
            return vec![
                Check::new(
                    "mta-sts.policy",
                    Category::MtaSts,
                    Status::Unknown,
                    &[],
                    format!(
                        "the {txt_name} lookup failed ({}); the policy was not fetched",
                        e.kind
                    ),
                )
                .evidence(error_evidence(&e)),
            ];
        }
    };
    let Some(record) = records.first() else {
        return vec![
            Check::new(
                "mta-sts.policy",
                Category::MtaSts,
                Status::Skip,
                &[],
                format!(
                    "no MTA-STS record at {txt_name}: senders look for no policy, none fetched"
                ),
            )
            .evidence(json!({ "name": txt_name, "url": url })),
        ];
    };
    let id = txt_id(record);
    let (fetched, mx) = futures::join!(
        fetcher.fetch(lookup, domain),
        lookup.get(domain, RecordType::Mx)
    );
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => return vec![fetch_failure(domain, &url, id, &e)],
    };
    let mut evidence = json!({
        "url": url,
        "address": fetched.address.to_string(),
        "content_type": fetched.content_type,
        "txt_id": id,
    });
    let policy = match parse_policy(&fetched.body) {
        Ok(p) => p,
        Err(e) => {
            evidence["body"] = json!(fetched.body.chars().take(EVIDENCE_BODY).collect::<String>());
            return vec![
                Check::new(
                    "mta-sts.policy",
                    Category::MtaSts,
                    Status::Fail,
                    &[],
                    format!("the policy at {url} is invalid: {e}"),
                )
                .evidence(evidence)
                .fix(format!(
                    "serve lines 'version: STSv1', 'mode: enforce', one 'mx: HOST' per MX and 'max_age: 604800' at https://mta-sts.{domain}/.well-known/mta-sts.txt"
                )),
            ];
        }
    };
    evidence["policy"] = json!({
        "mode": policy.mode.as_str(),
        "max_age": policy.max_age,
        "mx": policy.mx,
    });
    let policy_check = match id {
        Some(id) => Check::new(
            "mta-sts.policy",
            Category::MtaSts,
            Status::Pass,
            &[],
            format!(
                "policy fetched and valid (mode {}, {} mx pattern(s), max_age {}); TXT id={id}",
                policy.mode.as_str(),
                policy.mx.len(),
                policy.max_age
            ),
        )
        .evidence(evidence),
        None => Check::new(
            "mta-sts.policy",
            Category::MtaSts,
            Status::Warn,
            &[],
            format!(
                "policy fetched and valid, but the {txt_name} record has no valid id: senders cannot tell when the policy changes"
            ),
        )
        .evidence(evidence)
        .fix(format!(
            "publish {txt_name} TXT \"v=STSv1; id=YYYYMMDDHHMMSS\" and change the id whenever the policy changes"
        )),
    };
    vec![
        policy_check,
        mode_check(&policy),
        mx_check(domain, &policy, mx),
        max_age_check(&policy),
    ]
}

/// `mta-sts.policy` when the fetch failed: `unknown` for what may pass on its own, else `fail`.
fn fetch_failure(domain: &str, url: &str, id: Option<&str>, err: &FetchError) -> Check {
    let host = format!("mta-sts.{domain}");
    let mut evidence = json!({
        "url": url,
        "txt_id": id,
        "error": err.kind(),
        "detail": err.to_string(),
    });
    match err {
        FetchError::Dns(e) => evidence["dns"] = error_evidence(e),
        FetchError::Redirect {
            status, location, ..
        } => {
            evidence["status"] = json!(status);
            evidence["location"] = json!(location);
        }
        FetchError::Status { status, .. } => evidence["status"] = json!(status),
        FetchError::ContentType { content_type, .. } => {
            evidence["content_type"] = json!(content_type)
        }
        _ => {}
    }
    let fix = match err {
        FetchError::Dns(_) | FetchError::Timeout { .. } | FetchError::Io { .. } => {
            format!("check that {host} answers HTTPS on port 443, then run the audit again")
        }
        FetchError::NoAddress(_) => {
            format!(
                "publish an A or AAAA record for {host} pointing at the web server that serves the policy"
            )
        }
        FetchError::Connect { .. } => format!("serve HTTPS on port 443 at {host}"),
        FetchError::Tls { .. } => format!(
            "install a certificate for {host} from a public certificate authority, valid today and naming {host}"
        ),
        FetchError::Redirect { .. } => format!(
            "serve the policy itself at {url} with status 200: senders do not follow redirects (RFC 8461 §3.3)"
        ),
        FetchError::Status { status, .. } if *status >= 500 => {
            format!("repair the web server at {host}, then run the audit again")
        }
        FetchError::Status { .. } => format!("publish the policy file at {url}"),
        FetchError::ContentType { .. } => {
            format!("serve {url} with 'Content-Type: text/plain'")
        }
        FetchError::TooLarge { limit, .. } => {
            format!("keep the policy file under {limit} bytes: it needs only a few lines")
        }
        _ => format!(
            "check the web server at {host}: it must answer HTTP/1.1 with the policy as text"
        ),
    };
    let status = if err.is_temporary() {
        Status::Unknown
    } else {
        Status::Fail
    };
    Check::new(
        "mta-sts.policy",
        Category::MtaSts,
        status,
        &[],
        format!("the MTA-STS policy could not be fetched: {err}"),
    )
    .evidence(evidence)
    .fix(fix)
}

/// `mta-sts.mode`: enforce passes, testing and none warn.
fn mode_check(policy: &Policy) -> Check {
    let evidence = json!({ "mode": policy.mode.as_str() });
    match policy.mode {
        Mode::Enforce => Check::new(
            "mta-sts.mode",
            Category::MtaSts,
            Status::Pass,
            &[],
            "mode enforce: senders deliver only over authenticated TLS",
        )
        .evidence(evidence),
        Mode::Testing => Check::new(
            "mta-sts.mode",
            Category::MtaSts,
            Status::Warn,
            &[],
            "mode testing: senders report TLS failures but still deliver without TLS",
        )
        .evidence(evidence)
        .fix("once TLS-RPT reports show no failures, change the policy to 'mode: enforce' and publish a new id"),
        Mode::None => Check::new(
            "mta-sts.mode",
            Category::MtaSts,
            Status::Warn,
            &[],
            "mode none: the domain is withdrawing MTA-STS, senders drop the policy",
        )
        .evidence(evidence)
        .fix("if you are not leaving MTA-STS, change the policy to 'mode: testing', then 'mode: enforce'"),
    }
}

/// `mta-sts.mx`: every MX host must match an `mx` pattern, or senders enforcing the policy
/// refuse to deliver to it.
fn mx_check(
    domain: &str,
    policy: &Policy,
    mx: Result<inkan_dns::Answer, inkan_dns::DnsError>,
) -> Check {
    let new =
        |status, message: String| Check::new("mta-sts.mx", Category::MtaSts, status, &[], message);
    if policy.mode == Mode::None {
        return new(Status::Skip, "mode none: MX hosts are not matched".into())
            .evidence(json!({ "patterns": policy.mx }));
    }
    let answer = match mx {
        Ok(answer) => answer,
        Err(e) => {
            return new(
                Status::Unknown,
                format!("the MX lookup failed ({})", e.kind),
            )
            .evidence(error_evidence(&e));
        }
    };
    let hosts: Vec<String> = answer
        .records()
        .iter()
        .filter_map(|r| match &r.data {
            RData::Mx { exchange, .. } if !exchange.is_empty() => {
                Some(exchange.trim_end_matches('.').to_ascii_lowercase())
            }
            _ => None,
        })
        .collect();
    if hosts.is_empty() {
        return new(
            Status::Skip,
            format!("{domain} has no MX host to match against the policy"),
        )
        .evidence(json!({ "patterns": policy.mx, "mx": [] }));
    }
    let uncovered: Vec<&String> = hosts
        .iter()
        .filter(|h| !policy.mx.iter().any(|p| mx_matches(p, h)))
        .collect();
    let evidence = json!({ "patterns": policy.mx, "mx": hosts, "uncovered": uncovered });
    if uncovered.is_empty() {
        new(
            Status::Pass,
            format!("all {} MX host(s) match the policy", hosts.len()),
        )
        .evidence(evidence)
    } else {
        let names: Vec<&str> = uncovered.iter().map(|s| s.as_str()).collect();
        let consequence = if policy.mode == Mode::Enforce {
            "senders enforcing the policy will not deliver to them"
        } else {
            "in enforce mode senders would not deliver to them"
        };
        new(
            Status::Fail,
            format!(
                "MX host(s) not covered by the policy: {}; {consequence}",
                names.join(", ")
            ),
        )
        .evidence(evidence)
        .fix(format!(
            "add 'mx: {}' to the policy (or a '*.' pattern covering it) and publish a new id",
            names[0]
        ))
    }
}

/// `mta-sts.max-age`: under a day warns.
fn max_age_check(policy: &Policy) -> Check {
    let evidence = json!({ "max_age": policy.max_age });
    if policy.max_age < SHORT_MAX_AGE {
        Check::new(
            "mta-sts.max-age",
            Category::MtaSts,
            Status::Warn,
            &[],
            format!(
                "max_age {} is under a day: the policy lapses between fetches and protects little",
                policy.max_age
            ),
        )
        .evidence(evidence)
        .fix("raise max_age to 604800 (one week) or more once the policy is stable")
    } else {
        Check::new(
            "mta-sts.max-age",
            Category::MtaSts,
            Status::Pass,
            &[],
            format!("max_age {} seconds", policy.max_age),
        )
        .evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::MemoryResolver;
    use inkan_testkit::{HttpsServer, Reply};
    use std::time::Duration;

    const ENFORCE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.a.test\r\nmx: *.mail.a.test\r\nmax_age: 604800\r\n";

    /// The zone: every domain `<d>.test` with a `_mta-sts` record, MX hosts, and
    /// `mta-sts.<d>.test` at 127.0.0.1.
    fn zone(domains: &[&str]) -> MemoryResolver {
        let mut text = String::from("$TTL 300\n");
        for d in domains {
            text.push_str(&format!(
                "{d}. MX 10 mx1.a.test.\n{d}. MX 20 in2.mail.a.test.\n_mta-sts.{d}. TXT \"v=STSv1; id=20260101\"\nmta-sts.{d}. A 127.0.0.1\n"
            ));
        }
        text.push_str("nosts.test. MX 10 mx1.a.test.\nnoaddr.test. MX 10 mx1.a.test.\n_mta-sts.noaddr.test. TXT \"v=STSv1; id=1\"\n");
        MemoryResolver::from_zone_text(&text, None, "mta-sts.zone").unwrap()
    }

    /// Runs the policy checks of `domain` against `server`, trusting its authority.
    async fn run(server: &HttpsServer, domain: &str, timeout: Duration) -> Vec<Check> {
        let resolver = zone(&[
            "a.test",
            "testing.test",
            "uncovered.test",
            "syntax.test",
            "missing.test",
            "html.test",
            "moved.test",
            "selfsigned.test",
            "slow.test",
            "unserved.test",
        ]);
        let lookup = Lookup::new(&resolver, Duration::ZERO);
        let mut fetcher = PolicyFetcher::new()
            .unwrap()
            .with_port(server.port())
            .with_timeout(timeout);
        fetcher
            .add_trust_anchors_pem(server.ca_pem().as_bytes(), "test CA")
            .unwrap();
        check(&lookup, domain, &fetcher).await
    }

    fn server() -> HttpsServer {
        HttpsServer::builder()
            .host("mta-sts.a.test", Reply::text(ENFORCE))
            .host(
                "mta-sts.testing.test",
                Reply::text(&ENFORCE.replace("enforce", "testing")),
            )
            .host(
                "mta-sts.uncovered.test",
                Reply::text("version: STSv1\nmode: enforce\nmx: mx1.a.test\nmax_age: 3600\n"),
            )
            .host(
                "mta-sts.syntax.test",
                Reply::text("version: STSv1\nmode: always\nmx: mx1.a.test\nmax_age: 86400\n"),
            )
            .host(
                "mta-sts.missing.test",
                Reply::with_type(404, "text/html", "<h1>not found</h1>"),
            )
            .host(
                "mta-sts.html.test",
                Reply::with_type(200, "text/html", ENFORCE),
            )
            .host(
                "mta-sts.moved.test",
                Reply::redirect("https://elsewhere.test/.well-known/mta-sts.txt"),
            )
            .untrusted_host("mta-sts.selfsigned.test", Reply::text(ENFORCE))
            .host("mta-sts.slow.test", Reply::Hang)
            .start()
            .unwrap()
    }

    fn by_id<'a>(checks: &'a [Check], id: &str) -> &'a Check {
        checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} missing from {checks:#?}"))
    }

    #[tokio::test]
    async fn policy_fetched_over_https_and_judged() {
        let server = server();
        let long = Duration::from_secs(10);

        let good = run(&server, "a.test", long).await;
        let statuses: Vec<(&str, Status)> = good.iter().map(|c| (c.id, c.status)).collect();
        assert_eq!(
            statuses,
            [
                ("mta-sts.policy", Status::Pass),
                ("mta-sts.mode", Status::Pass),
                ("mta-sts.mx", Status::Pass),
                ("mta-sts.max-age", Status::Pass)
            ]
        );
        assert_eq!(
            by_id(&good, "mta-sts.policy").evidence["txt_id"],
            "20260101"
        );

        let testing = run(&server, "testing.test", long).await;
        assert_eq!(by_id(&testing, "mta-sts.mode").status, Status::Warn);

        let uncovered = run(&server, "uncovered.test", long).await;
        let mx = by_id(&uncovered, "mta-sts.mx");
        assert_eq!(mx.status, Status::Fail);
        assert_eq!(mx.evidence["uncovered"], json!(["in2.mail.a.test"]));
        assert!(mx.fix.as_deref().unwrap().contains("mx: in2.mail.a.test"));
        assert_eq!(by_id(&uncovered, "mta-sts.max-age").status, Status::Warn);

        let policy = |checks: Vec<Check>| {
            assert_eq!(checks.len(), 1, "{checks:#?}");
            checks.into_iter().next().unwrap()
        };
        let syntax = policy(run(&server, "syntax.test", long).await);
        assert_eq!(syntax.status, Status::Fail);
        assert!(
            syntax.message.contains("mode 'always'"),
            "{}",
            syntax.message
        );

        let missing = policy(run(&server, "missing.test", long).await);
        assert_eq!(
            (missing.status, &missing.evidence["status"]),
            (Status::Fail, &json!(404))
        );

        let html = policy(run(&server, "html.test", long).await);
        assert_eq!(html.status, Status::Fail);
        assert_eq!(html.evidence["content_type"], "text/html");

        let moved = policy(run(&server, "moved.test", long).await);
        assert_eq!(moved.status, Status::Fail);
        assert_eq!(moved.evidence["error"], "redirect");
        assert!(moved.message.contains("redirects are not followed"));

        let untrusted = policy(run(&server, "selfsigned.test", long).await);
        assert_eq!(untrusted.status, Status::Fail);
        assert_eq!(untrusted.evidence["error"], "tls");
        assert!(
            untrusted.message.contains("certificate"),
            "{}",
            untrusted.message
        );

        // A host the server has no certificate for: the handshake fails.
        let unserved = policy(run(&server, "unserved.test", long).await);
        assert_eq!(
            (unserved.status, &unserved.evidence["error"]),
            (Status::Fail, &json!("tls"))
        );

        let slow = policy(run(&server, "slow.test", Duration::from_millis(300)).await);
        assert_eq!(slow.status, Status::Unknown);
        assert_eq!(slow.evidence["error"], "timeout");

        let noaddr = policy(run(&server, "noaddr.test", long).await);
        assert_eq!(
            (noaddr.status, &noaddr.evidence["error"]),
            (Status::Fail, &json!("no-address"))
        );

        let nosts = policy(run(&server, "nosts.test", long).await);
        assert_eq!(nosts.status, Status::Skip);
    }

    /// A clock fixed at the given Unix time, for certificate validity.
    #[derive(Debug)]
    struct FixedClock(u64);

    impl rustls::time_provider::TimeProvider for FixedClock {
        fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
            Some(rustls::pki_types::UnixTime::since_unix_epoch(
                Duration::from_secs(self.0),
            ))
        }
    }

    /// A certificate outside its validity period is refused: the test authority's certificates
    /// are valid from 1975, and the clock says 1971.
    #[tokio::test]
    async fn certificate_not_yet_valid_is_refused() {
        let server = server();
        let resolver = zone(&["a.test"]);
        let lookup = Lookup::new(&resolver, Duration::ZERO);
        let mut fetcher = PolicyFetcher::new().unwrap().with_port(server.port());
        fetcher
            .add_trust_anchors_pem(server.ca_pem().as_bytes(), "test CA")
            .unwrap();
        let early = fetcher
            .clone()
            .with_clock(std::sync::Arc::new(FixedClock(31_536_000)))
            .unwrap();
        let checks = check(&lookup, "a.test", &early).await;
        assert_eq!(checks[0].status, Status::Fail);
        assert!(
            checks[0].message.contains("certificate not valid yet"),
            "{}",
            checks[0].message
        );
        let now = check(&lookup, "a.test", &fetcher).await;
        assert_eq!(now[0].status, Status::Pass);
    }

    /// Without the test authority the same good server is refused.
    #[tokio::test]
    async fn unknown_authority_is_refused() {
        let server = server();
        let resolver = zone(&["a.test"]);
        let lookup = Lookup::new(&resolver, Duration::ZERO);
        let fetcher = PolicyFetcher::new().unwrap().with_port(server.port());
        let checks = check(&lookup, "a.test", &fetcher).await;
        assert_eq!(checks[0].status, Status::Fail);
        assert!(
            checks[0].message.contains("UnknownIssuer"),
            "{}",
            checks[0].message
        );
    }

    #[test]
    fn txt_ids() {
        assert_eq!(
            txt_id("v=STSv1; id=20260101T000000"),
            Some("20260101T000000")
        );
        assert_eq!(txt_id("v=STSv1; id=bad-id"), None);
        assert_eq!(txt_id("v=STSv1"), None);
    }

    #[test]
    fn mode_and_max_age_statuses() {
        let policy = |mode, max_age| Policy {
            mode,
            max_age,
            mx: vec!["mx.a.test".into()],
        };
        assert_eq!(mode_check(&policy(Mode::Enforce, 1)).status, Status::Pass);
        assert_eq!(mode_check(&policy(Mode::Testing, 1)).status, Status::Warn);
        assert_eq!(mode_check(&policy(Mode::None, 1)).status, Status::Warn);
        assert_eq!(
            max_age_check(&policy(Mode::Enforce, 3600)).status,
            Status::Warn
        );
        assert_eq!(
            max_age_check(&policy(Mode::Enforce, 604_800)).status,
            Status::Pass
        );
    }
}
