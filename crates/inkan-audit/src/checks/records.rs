//! Optional TXT records a mail domain may publish, checked for syntax: MTA-STS
//! (`_mta-sts.<domain>`, RFC 8461 §3.1), SMTP TLS reporting (`_smtp._tls.<domain>`, RFC 8460 §3)
//! and BIMI (`default._bimi.<domain>`). Absent records are `skip`: no provider requires them.
//! The MTA-STS policy file is checked in `mta_sts` (when asked), BIMI's dependence on DMARC in
//! `bimi`.

use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::report::{Category, Check, Status};

/// Splits `k=v; k=v` into pairs, trimming blanks around each; an empty trailing part is allowed.
fn tag_list(record: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags = Vec::new();
    for part in record.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("'{part}' is not name=value"));
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("'{k}' is not a tag name"));
        }
        if tags
            .iter()
            .any(|(seen, _): &(String, String)| seen.eq_ignore_ascii_case(k))
        {
            return Err(format!("tag '{k}' appears twice"));
        }
        tags.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    Ok(tags)
}

fn get<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Finds the records starting with `version` (case-sensitive prefix, as the RFCs require).
async fn records(
    lookup: &Lookup<'_>,
    name: &str,
    version: &str,
) -> Result<Vec<String>, inkan_dns::DnsError> {
    Ok(lookup
        .txt(name)
        .await?
        .into_iter()
        .filter(|t| {
            t.strip_prefix(version).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(';') || rest.starts_with(' ')
            })
        })
        .collect())
}

/// Common shape: failed lookup → unknown, none → skip, several → fail, one → `judge`. Also
/// returns the record when there is exactly one and `judge` accepts it.
async fn one_record(
    lookup: &Lookup<'_>,
    id: &'static str,
    category: Category,
    name: String,
    version: &str,
    what: &str,
    judge: impl FnOnce(&str) -> Result<(Status, String, Option<String>), String>,
) -> (Check, Option<String>) {
    let mut accepted = None;
    let check = match records(lookup, &name, version).await {
        Err(e) => Check::new(
            id,
            category,
            Status::Unknown,
            &[],
            format!("the {what} lookup failed ({})", e.kind),
        )
        .evidence(error_evidence(&e)),
        Ok(found) if found.is_empty() => Check::new(
            id,
            category,
            Status::Skip,
            &[],
            format!("no {what} record at {name} (optional)"),
        )
        .evidence(json!({ "name": name, "records": [] })),
        Ok(found) if found.len() > 1 => Check::new(
            id,
            category,
            Status::Fail,
            &[],
            format!(
                "{} {what} records at {name}; receivers treat that as none",
                found.len()
            ),
        )
        .evidence(json!({ "name": name, "records": found }))
        .fix(format!("keep exactly one {version} record at {name}")),
        Ok(found) => {
            let evidence = json!({ "name": name, "records": found });
            match judge(&found[0]) {
                Ok((status, message, fix)) => {
                    accepted = found.into_iter().next();
                    let check = Check::new(id, category, status, &[], message).evidence(evidence);
                    match fix {
                        Some(f) => check.fix(f),
                        None => check,
                    }
                }
                Err(why) => Check::new(
                    id,
                    category,
                    Status::Fail,
                    &[],
                    format!("the {what} record is invalid: {why}"),
                )
                .evidence(evidence)
                .fix(format!("correct the {what} record at {name}")),
            }
        }
    };
    (check, accepted)
}

/// RFC 8461 §3.1: `v=STSv1; id=<1-32 alphanumerics>`.
pub fn judge_mta_sts(record: &str) -> Result<(Status, String, Option<String>), String> {
    let tags = tag_list(record)?;
    if tags.first().map(|(k, v)| (k.as_str(), v.as_str())) != Some(("v", "STSv1")) {
        return Err("it must start with v=STSv1".into());
    }
    let id = get(&tags, "id").ok_or("the id tag is missing")?;
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("id '{id}' must be 1 to 32 letters or digits"));
    }
    Ok((
        Status::Pass,
        format!("MTA-STS record valid (id={id}); the policy file is checked with --fetch-mta-sts"),
        None,
    ))
}

/// RFC 8460 §3: `v=TLSRPTv1; rua=<mailto: or https: URIs, comma-separated>`.
pub fn judge_tls_rpt(record: &str) -> Result<(Status, String, Option<String>), String> {
    let tags = tag_list(record)?;
    if tags.first().map(|(k, v)| (k.as_str(), v.as_str())) != Some(("v", "TLSRPTv1")) {
        return Err("it must start with v=TLSRPTv1".into());
    }
    let rua = get(&tags, "rua").ok_or("the rua tag is missing")?;
    let uris: Vec<&str> = rua.split(',').map(str::trim).collect();
    for uri in &uris {
        let ok = uri
            .strip_prefix("mailto:")
            .is_some_and(|a| a.contains('@') && !a.starts_with('@') && !a.ends_with('@'))
            || uri.strip_prefix("https://").is_some_and(|h| !h.is_empty());
        if !ok {
            return Err(format!(
                "rua destination '{uri}' is neither mailto:ADDRESS nor https://URL"
            ));
        }
    }
    Ok((
        Status::Pass,
        format!("TLS-RPT record valid, {} destination(s)", uris.len()),
        None,
    ))
}

/// BIMI (draft-brand-indicators-for-message-identification §4.2): `v=BIMI1; l=<https SVG>;
/// a=<https PEM>`; empty `l=` and no `a=` is a declination.
pub fn judge_bimi(record: &str) -> Result<(Status, String, Option<String>), String> {
    let tags = tag_list(record)?;
    if tags.first().map(|(k, v)| (k.as_str(), v.as_str())) != Some(("v", "BIMI1")) {
        return Err("it must start with v=BIMI1".into());
    }
    let l = get(&tags, "l").unwrap_or("");
    let a = get(&tags, "a").unwrap_or("");
    for (tag, value) in [("l", l), ("a", a)] {
        if !value.is_empty() && !value.starts_with("https://") {
            return Err(format!("{tag}= '{value}' is not an https URL"));
        }
    }
    if l.is_empty() && a.is_empty() {
        return Ok((
            Status::Pass,
            "BIMI record declines to show a logo".into(),
            None,
        ));
    }
    if l.is_empty() {
        return Err("a= is given without a logo in l=".into());
    }
    if a.is_empty() {
        return Ok((
            Status::Warn,
            "BIMI record has a logo but no mark certificate (a=); Gmail and Apple show logos only with one".into(),
            Some("obtain a VMC or CMC and publish its URL in a=".into()),
        ));
    }
    Ok((
        Status::Pass,
        "BIMI record valid, with a logo and a mark certificate".into(),
        None,
    ))
}

/// True when a valid BIMI record asks for a logo to be shown (a non-empty `l=`), rather than
/// declining.
pub fn bimi_shows_logo(record: &str) -> bool {
    tag_list(record).is_ok_and(|tags| get(&tags, "l").is_some_and(|l| !l.is_empty()))
}

/// `mta-sts.record`, `tls-rpt.record` and `bimi.record`.
pub async fn check(lookup: &Lookup<'_>, domain: &str) -> Vec<Check> {
    check_and_find_bimi(lookup, domain).await.0
}

/// [`check`], also returning the BIMI record when one valid record is published.
pub async fn check_and_find_bimi(
    lookup: &Lookup<'_>,
    domain: &str,
) -> (Vec<Check>, Option<String>) {
    let ((sts, _), (rpt, _), (bimi, bimi_record)) = futures::join!(
        one_record(
            lookup,
            "mta-sts.record",
            Category::MtaSts,
            format!("_mta-sts.{domain}"),
            "v=STSv1",
            "MTA-STS",
            judge_mta_sts
        ),
        one_record(
            lookup,
            "tls-rpt.record",
            Category::TlsRpt,
            format!("_smtp._tls.{domain}"),
            "v=TLSRPTv1",
            "TLS-RPT",
            judge_tls_rpt
        ),
        one_record(
            lookup,
            "bimi.record",
            Category::Bimi,
            format!("default._bimi.{domain}"),
            "v=BIMI1",
            "BIMI",
            judge_bimi
        ),
    );
    (vec![sts, rpt, bimi], bimi_record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mta_sts_syntax() {
        assert_eq!(
            judge_mta_sts("v=STSv1; id=20260101T000000").unwrap().0,
            Status::Pass
        );
        assert!(
            judge_mta_sts("v=STSv1;")
                .unwrap_err()
                .contains("id tag is missing")
        );
        assert!(
            judge_mta_sts("v=STSv1; id=has-dash")
                .unwrap_err()
                .contains("'has-dash'")
        );
        assert!(judge_mta_sts("id=1; v=STSv1").is_err());
    }

    #[test]
    fn tls_rpt_syntax() {
        assert_eq!(
            judge_tls_rpt("v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example/x")
                .unwrap()
                .0,
            Status::Pass
        );
        assert!(judge_tls_rpt("v=TLSRPTv1").unwrap_err().contains("rua"));
        assert!(
            judge_tls_rpt("v=TLSRPTv1; rua=tls@example.com")
                .unwrap_err()
                .contains("'tls@example.com'")
        );
    }

    #[test]
    fn bimi_syntax() {
        assert_eq!(judge_bimi("v=BIMI1; l=; a=;").unwrap().0, Status::Pass);
        assert_eq!(
            judge_bimi("v=BIMI1; l=https://x.example/logo.svg")
                .unwrap()
                .0,
            Status::Warn
        );
        assert_eq!(
            judge_bimi("v=BIMI1; l=https://x.example/l.svg; a=https://x.example/v.pem")
                .unwrap()
                .0,
            Status::Pass
        );
        assert!(
            judge_bimi("v=BIMI1; l=http://x.example/l.svg")
                .unwrap_err()
                .contains("https")
        );
        assert!(
            judge_bimi("v=BIMI1; l=x; l=y")
                .unwrap_err()
                .contains("twice")
        );
    }
}
