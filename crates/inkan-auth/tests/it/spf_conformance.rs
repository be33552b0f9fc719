//! The openspf test suites (RFC 7208 and RFC 4408 editions) run through `check_host()` with an
//! in-memory resolver and planned timeouts, following the driver rules in
//! `shared/conformance/README.md`.
//!
//! <https://www.rfc-editor.org/rfc/rfc7208>

use inkan_auth::spf::{ExplanationSource, SpfParams, check_host};
use inkan_dns::MemoryResolver;
use inkan_testkit::{FaultResolver, load_spf_suite};

const RFC7208: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/spf/rfc7208-tests.yml"
);
const RFC4408: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/spf/rfc4408-tests.yml"
);

/// Cases whose explanation is compared without regard to ASCII case, with the reason.
const CASE_INSENSITIVE_EXPLANATIONS: &[(&str, &str)] = &[(
    "v-macro-ip6",
    "the suite writes the %{ir} nibbles in upper case; RFC 7208 §7.3 and the example of §7.4 \
     ('1.0.b.c.0.0...ip6') write them in lower case, as inkan does",
)];

/// Runs every case; returns (cases run, explanations compared, failures as "id: expected X,
/// got Y").
async fn run_suite(path: &str) -> (usize, usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut explanations = 0;
    for scenario in load_spf_suite(path) {
        let resolver = FaultResolver::new(
            MemoryResolver::from_records(scenario.records),
            scenario.faults,
        );
        for case in &scenario.cases {
            count += 1;
            let params = SpfParams::new(case.host, &case.helo, &case.mailfrom);
            let out = check_host(&resolver, &params).await;
            let got = out.result.as_str();
            if !case.results.iter().any(|r| r == got) {
                failures.push(format!(
                    "{} [{}]: expected {:?}, got {got} ({}; mechanism {:?})",
                    case.id, scenario.description, case.results, out.reason, out.mechanism
                ));
                continue;
            }
            let Some(want) = &case.explanation else {
                continue;
            };
            explanations += 1;
            let ok = if want == "DEFAULT" {
                out.explanation_source == Some(ExplanationSource::Default)
            } else if CASE_INSENSITIVE_EXPLANATIONS
                .iter()
                .any(|(id, _)| *id == case.id)
            {
                out.explanation
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(want))
            } else {
                out.explanation.as_deref() == Some(want.as_str())
            };
            if !ok {
                failures.push(format!(
                    "{} [{}]: expected explanation {want:?}, got {:?} ({:?})",
                    case.id, scenario.description, out.explanation, out.explanation_source
                ));
            }
        }
    }
    (count, explanations, failures)
}

/// RFC 7208 edition: all 203 cases, results and explanations.
#[tokio::test]
async fn rfc7208_openspf_suite_passes_every_case() {
    let (count, explanations, failures) = run_suite(RFC7208).await;
    assert_eq!(count, 203, "the suite should hold 203 cases");
    assert_eq!(
        explanations, 22,
        "the suite gives 22 explanations to compare"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// RFC 4408 edition, extra coverage: any listed result is accepted.
#[tokio::test]
async fn rfc4408_openspf_suite_passes_every_case() {
    let (count, _, failures) = run_suite(RFC4408).await;
    assert_eq!(count, 191, "the suite should hold 191 cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
