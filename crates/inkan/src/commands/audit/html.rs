//! The fleet report as one self-contained HTML page: verdict counts per profile, pass rates
//! per rule, status counts per check and the worst domains, with inline SVG bars and CSS; no
//! script, no external asset. Built from a [`Summary`], so its size does not depend on the
//! number of domains.

use inkan_audit::{Catalogue, Status, Summary};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const COLORS: [&str; 5] = ["#2e7d32", "#c62828", "#f9a825", "#6a1b9a", "#9e9e9e"];

/// A horizontal stacked bar of `counts` with the given colours, 300 px wide.
fn bar(counts: &[u64], colors: &[&str]) -> String {
    let total: u64 = counts.iter().sum();
    let mut svg = String::from(r#"<svg class="bar" width="300" height="14" role="img">"#);
    if total == 0 {
        svg.push_str(r##"<rect width="300" height="14" fill="#eee"/>"##);
    } else {
        let mut x = 0.0;
        for (n, color) in counts.iter().zip(colors) {
            let w = 300.0 * *n as f64 / total as f64;
            if w > 0.0 {
                svg.push_str(&format!(
                    r#"<rect x="{x:.2}" width="{w:.2}" height="14" fill="{color}"/>"#
                ));
            }
            x += w;
        }
    }
    svg.push_str("</svg>");
    svg
}

fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        "–".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / total as f64)
    }
}

/// Writes the page.
pub fn write(
    out: &mut dyn std::io::Write,
    summary: &Summary,
    catalogue: &Catalogue,
    profile: &str,
) -> std::io::Result<()> {
    let mut h = String::new();
    h.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>inkan audit</title>\n<style>",
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}",
        "table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 10px;text-align:left;border-bottom:1px solid #ddd}",
        "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}",
        ".key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}",
        "h1 small{font-weight:normal;color:#666}code{font-size:13px}",
        "</style></head><body>\n"
    ));
    let [pass, fail, unknown] = summary.profile_counts(profile);
    h.push_str(&format!(
        "<h1>inkan audit <small>{} domains · profile {} · {} pass · {} fail · {} unknown</small></h1>\n",
        summary.domains,
        esc(profile),
        pass,
        fail,
        unknown
    ));
    h.push_str(&format!(
        "<p class=\"key\"><span style=\"background:{}\"></span>pass<span style=\"background:{}\"></span>fail<span style=\"background:{}\"></span>warn<span style=\"background:{}\"></span>unknown<span style=\"background:{}\"></span>skip / not checked</p>\n",
        COLORS[0], COLORS[1], COLORS[2], COLORS[3], COLORS[4]
    ));

    h.push_str("<h2>Verdicts per profile</h2>\n<table><tr><th>profile</th><th></th><th>pass</th><th>fail</th><th>unknown</th><th>pass rate</th></tr>\n");
    for (p, [pass, fail, unknown]) in &summary.verdicts {
        let total = pass + fail + unknown;
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{pass}</td><td class=\"n\">{fail}</td><td class=\"n\">{unknown}</td><td class=\"n\">{}</td></tr>\n",
            esc(p),
            bar(&[*pass, *fail, *unknown], &[COLORS[0], COLORS[1], COLORS[3]]),
            pct(*pass, total)
        ));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Rules judged from DNS</h2>\n<table><tr><th>rule</th><th>requirement</th><th></th><th>pass</th><th>fail</th><th>unknown</th><th>not checked</th><th>pass rate</th></tr>\n");
    for (id, [pass, fail, unknown, skipped]) in &summary.rules {
        let text = catalogue.rule(id).map(|r| r.summary.as_str()).unwrap_or("");
        let source = catalogue.rule(id).map(|r| r.source.as_str()).unwrap_or("");
        h.push_str(&format!(
            "<tr><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td class=\"n\">{pass}</td><td class=\"n\">{fail}</td><td class=\"n\">{unknown}</td><td class=\"n\">{skipped}</td><td class=\"n\">{}</td></tr>\n",
            esc(source),
            esc(id),
            esc(text),
            bar(&[*pass, *fail, *unknown, *skipped], &[COLORS[0], COLORS[1], COLORS[3], COLORS[4]]),
            pct(*pass, pass + fail + unknown)
        ));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Checks</h2>\n<table><tr><th>check</th><th></th>");
    for s in Status::ALL {
        h.push_str(&format!("<th>{}</th>", s.as_str()));
    }
    h.push_str("</tr>\n");
    for (id, counts) in &summary.checks {
        h.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td>",
            esc(id),
            bar(counts, &COLORS)
        ));
        for n in counts {
            h.push_str(&format!("<td class=\"n\">{n}</td>"));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    let worst = summary.worst();
    h.push_str(&format!("<h2>Worst domains</h2>\n<p>The {} domains with the most failed, then unknown, checks.</p>\n", worst.len()));
    h.push_str(
        "<table><tr><th>domain</th><th>fail</th><th>unknown</th><th>failed checks</th></tr>\n",
    );
    for w in &worst {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>\n",
            esc(&w.domain),
            w.fails,
            w.unknowns,
            esc(&w.failed.join(" "))
        ));
    }
    h.push_str(&format!(
        "</table>\n<p><small>Rule catalogue of {}.</small></p>\n</body></html>\n",
        esc(&catalogue.version)
    ));
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bars() {
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        let svg = bar(&[1, 1], &["red", "blue"]);
        assert!(svg.contains(r#"width="150.00""#), "{svg}");
        assert!(bar(&[0, 0], &["red", "blue"]).contains("#eee"));
    }
}
