//! The store on both backends (SQLite and PostgreSQL): ingest of every container,
//! idempotence, failures kept with their error, the archive of original bytes, per-report
//! rollback, summaries with exact numbers, and a report of a million records.

use inkan_reports::{Filter, Limits, Store};

use crate::support::{
    backends, eml_with_attachment, fixture, gzip, maildir, mbox, postgres_store, sqlite_store,
    write, write_big_report, zip,
};

const NOW: i64 = 1_795_824_000;

fn table_counts(store: &mut Store) -> Vec<i64> {
    [
        "inputs",
        "input_chunks",
        "reports",
        "aggregate_records",
        "tls_policies",
        "tls_failures",
        "feedback",
        "ingest_errors",
    ]
    .iter()
    .map(|t| store.count(&format!("SELECT COUNT(*) FROM {t}")).unwrap())
    .collect()
}

/// A directory with every kind of report in every container.
fn corpus(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let gz = gzip(&fixture("rfc7489.xml"));
    let z = zip(&[("draft.xml", &fixture("draft.xml"))]);
    let mut paths = vec![
        write(dir, "raw/rfc9990.xml", &fixture("rfc9990.xml")),
        write(dir, "raw/report.bin", &gz),
        write(dir, "raw/legacy.zip", &z),
        write(dir, "raw/tls.json", &fixture("tlsrpt.json")),
        write(dir, "mail/arf.eml", &fixture("arf.eml")),
        write(dir, "mail/failure.eml", &fixture("failure.eml")),
        write(
            dir,
            "mail/aggregate.eml",
            &eml_with_attachment(
                "agg@receiver.example",
                "sender.example.xml.gz",
                "application/gzip",
                &gz,
            ),
        ),
    ];
    let tls_gz = gzip(&fixture("tlsrpt.json"));
    paths.push(write(
        dir,
        "mail/archive.mbox",
        &mbox(&[
            eml_with_attachment("z@receiver.example", "r.zip", "application/zip", &z),
            eml_with_attachment(
                "t@receiver.example",
                "t.json.gz",
                "application/tlsrpt+gzip",
                &tls_gz,
            ),
        ]),
    ));
    maildir(
        &dir.join("Maildir"),
        &[fixture("arf.eml"), fixture("failure.eml")],
    );
    paths.push(dir.join("Maildir/new/1764288000.M0P1.host"));
    paths.push(dir.join("Maildir/cur/1764288000.M1P1.host:2,S"));
    paths
}

fn ingest_all(store: &mut Store, paths: &[std::path::PathBuf]) -> inkan_reports::IngestTotals {
    let mut totals = inkan_reports::IngestTotals::default();
    for path in paths {
        totals.merge(store.ingest_file(path, &Limits::default(), NOW).unwrap());
    }
    totals
}

#[test]
fn every_container_is_stored_once() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let paths = corpus(dir.path());
        let first = ingest_all(&mut t.store, &paths);
        assert!(first.errors.is_empty(), "{}: {:?}", t.name, first.errors);
        assert_eq!(first.files, 10, "{}", t.name);
        // rfc9990, rfc7489, draft, tls, arf, failure; the rest are the same reports again.
        assert_eq!(first.reports, 6, "{}", t.name);
        assert_eq!(first.duplicates, 5, "{}", t.name);
        assert_eq!(first.records, 3 + 2 + 1, "{}", t.name);
        assert_eq!(
            (
                first.kinds.aggregate,
                first.kinds.tls,
                first.kinds.arf,
                first.kinds.failure
            ),
            (3, 1, 1, 1),
            "{}",
            t.name
        );
        let before = table_counts(&mut t.store);
        // The Maildir holds byte-identical copies of the two .eml files: archived once.
        assert_eq!(
            before[0], 8,
            "{}: one archived input per distinct file",
            t.name
        );

        let second = ingest_all(&mut t.store, &paths);
        assert_eq!(
            (second.reports, second.records, second.duplicates),
            (0, 0, 11),
            "{}",
            t.name
        );
        assert_eq!(
            table_counts(&mut t.store),
            before,
            "{}: nothing new stored",
            t.name
        );
    }
}

#[test]
fn failures_are_kept_with_their_error_and_the_original_bytes() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let broken = b"<feedback><report_metadata><org_name>x</org_name>".to_vec();
        let path = write(dir.path(), "broken.xml", &broken);
        let totals = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!(totals.reports, 0);
        assert_eq!(totals.errors.len(), 1);
        let errors = t.store.errors().unwrap();
        assert_eq!(errors.len(), 1, "{}", t.name);
        assert_eq!(errors[0].path, path.display().to_string());
        assert_eq!(
            errors[0].error,
            "document ended inside <report_metadata> (truncated report?)"
        );
        assert_eq!(errors[0].created_at, NOW);
        assert_eq!(
            t.store.archived(&errors[0].sha256).unwrap(),
            Some(broken.clone()),
            "{}",
            t.name
        );
        // Again: the error is not recorded twice.
        t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!(t.store.errors().unwrap().len(), 1, "{}", t.name);
    }
}

/// An input that failed is read again on every ingest; once it parses (here: under limits
/// that allow it, as after an upgrade or a raised `--max-decompressed`), its report is stored
/// and its old error is gone, through the single-file path and the batch path alike.
#[test]
fn an_input_that_parses_on_a_later_ingest_loses_its_old_error() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let report = gzip(&fixture("rfc7489.xml"));
        let one = write(dir.path(), "one.xml.gz", &report);
        let two = write(dir.path(), "two.xml", &fixture("rfc9990.xml"));
        let strict = Limits {
            max_decompressed: 64,
            max_element_bytes: 64,
            ..Limits::default()
        };
        for path in [&one, &two] {
            let totals = t.store.ingest_file(path, &strict, NOW).unwrap();
            assert_eq!((totals.reports, totals.errors.len()), (0, 1), "{}", t.name);
        }
        assert_eq!(t.store.errors().unwrap().len(), 2, "{}", t.name);

        let totals = t.store.ingest_file(&one, &Limits::default(), NOW).unwrap();
        assert_eq!((totals.reports, totals.errors.len()), (1, 0), "{}", t.name);
        let left: Vec<String> = t
            .store
            .errors()
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(left, [two.display().to_string()], "{}", t.name);

        let totals = t
            .store
            .ingest_files(
                &[one.clone(), two.clone()],
                &Limits::default(),
                &|| NOW,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!((totals.reports, totals.duplicates), (1, 1), "{}", t.name);
        assert!(t.store.errors().unwrap().is_empty(), "{}", t.name);

        // The same for an input too large to hold in memory, which is hashed as it is read.
        let big = dir.path().join("big.xml");
        write_big_report(&big, "big.example", "big-again", 40_000);
        assert!(std::fs::metadata(&big).unwrap().len() > 8 << 20);
        let totals = t.store.ingest_file(&big, &strict, NOW).unwrap();
        assert_eq!((totals.reports, totals.errors.len()), (0, 1), "{}", t.name);
        let totals = t.store.ingest_file(&big, &Limits::default(), NOW).unwrap();
        assert_eq!((totals.reports, totals.records), (1, 40_000), "{}", t.name);
        assert!(t.store.errors().unwrap().is_empty(), "{}", t.name);
        let again = t.store.ingest_file(&big, &Limits::default(), NOW).unwrap();
        assert_eq!((again.reports, again.duplicates), (0, 1), "{}", t.name);
    }
}

/// A report that breaks halfway leaves none of its records, while the other reports of the
/// same input are kept (its rows are removed inside the input's transaction).
#[test]
fn a_broken_report_rolls_back_alone() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let good = fixture("rfc7489.xml");
        let full = fixture("rfc9990.xml");
        let cut = full.len() * 3 / 4;
        let archive = zip(&[("good.xml", &good), ("cut.xml", &full[..cut])]);
        let path = write(dir.path(), "mixed.zip", &archive);
        let totals = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!(totals.reports, 1, "{}", t.name);
        assert_eq!(totals.records, 2, "{}", t.name);
        assert_eq!(totals.errors.len(), 1, "{}", t.name);
        assert_eq!(totals.errors[0].location, "cut.xml");
        assert_eq!(
            t.store.count("SELECT COUNT(*) FROM reports").unwrap(),
            1,
            "{}",
            t.name
        );
        assert_eq!(
            t.store
                .count("SELECT COUNT(*) FROM aggregate_records")
                .unwrap(),
            2,
            "{}",
            t.name
        );
    }
}

/// The same for reports long enough to be stored by the second thread while they are parsed:
/// one breaks after several batches were stored and leaves nothing; one of a count that is
/// no multiple of the batch size is kept whole.
#[test]
fn a_long_report_broken_late_rolls_back_alone() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("long.xml");
        write_big_report(&long, "long.example", "long-1", 5_500);
        let full = std::fs::read(&long).unwrap();
        let cut = full.len() * 9 / 10;
        let kept = dir.path().join("kept.xml");
        write_big_report(&kept, "kept.example", "kept-1", 2_345);
        let kept = std::fs::read(kept).unwrap();
        let archive = zip(&[("cut.xml", &full[..cut]), ("kept.xml", &kept)]);
        let path = write(dir.path(), "long.zip", &archive);
        let totals = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!((totals.reports, totals.records), (1, 2_345), "{}", t.name);
        assert_eq!(totals.errors.len(), 1, "{}", t.name);
        assert_eq!(totals.errors[0].location, "cut.xml", "{}", t.name);
        assert_eq!(
            t.store
                .count("SELECT COUNT(*) FROM aggregate_records")
                .unwrap(),
            2_345,
            "{}",
            t.name
        );
        assert_eq!(
            t.store.count("SELECT COUNT(*) FROM reports").unwrap(),
            1,
            "{}",
            t.name
        );
        let again = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!((again.reports, again.duplicates), (0, 1), "{}", t.name);
    }
}

/// Ranking among thousands of sources (the summary keeps only the best `top` while it reads)
/// gives the order a full sort gives: most messages (or failures) first, ties by address in
/// byte order; and sums over counts past any real report's saturate instead of failing.
#[test]
fn summary_ranks_thousands_of_sources_like_a_full_sort() {
    const N: u64 = 3_000;
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.xml");
        write_big_report(&path, "many.example", "many-1", N);
        t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        // What write_big_report writes: source 10.a.b.c for record i, 1 + i % 3 messages,
        // DMARC failing when i % 4 == 3.
        let sources: Vec<(String, i64, i64)> = (0..N)
            .map(|i| {
                let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                let messages = 1 + (i % 3) as i64;
                (ip, messages, if i % 4 == 3 { messages } else { 0 })
            })
            .collect();
        let expect = |by: fn(&(String, i64, i64)) -> i64| {
            let mut all: Vec<&(String, i64, i64)> = sources.iter().filter(|s| by(s) > 0).collect();
            all.sort_by(|a, b| by(b).cmp(&by(a)).then_with(|| a.0.cmp(&b.0)));
            all.iter()
                .take(7)
                .map(|s| (s.0.clone(), s.1, s.2))
                .collect::<Vec<_>>()
        };
        let filter = Filter {
            top: 7,
            ..Filter::default()
        };
        let summary = t.store.summary(&filter).unwrap();
        let domain = &summary.domains[0];
        let got = |list: &[inkan_reports::Source]| {
            list.iter()
                .map(|s| (s.ip.clone(), s.messages, s.fail))
                .collect::<Vec<_>>()
        };
        assert_eq!(got(&domain.top_sources), expect(|s| s.1), "{}", t.name);
        assert_eq!(got(&domain.failing_sources), expect(|s| s.2), "{}", t.name);
        assert_eq!(domain.messages, 6_000, "{}", t.name);

        // A database written before counts were capped can hold counts whose sum overflows.
        let report = t.store.count("SELECT MIN(id) FROM reports").unwrap();
        for _ in 0..2 {
            t.store
                .query(
                    &format!(
                        "INSERT INTO aggregate_records (report_id, source_ip, count) \
                         VALUES ({report}, '192.0.2.1', {})",
                        i64::MAX - 1
                    ),
                    &[],
                )
                .unwrap();
        }
        let summary = t.store.summary(&filter).unwrap();
        let domain = &summary.domains[0];
        assert_eq!(domain.messages, i64::MAX, "{}", t.name);
        assert_eq!(domain.top_sources[0].ip, "192.0.2.1", "{}", t.name);
        assert_eq!(domain.top_sources[0].messages, i64::MAX, "{}", t.name);
    }
}

#[test]
fn summary_has_exact_numbers() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        ingest_all(&mut t.store, &corpus(dir.path()));
        let summary = t.store.summary(&Filter::default()).unwrap();
        let names: Vec<&str> = summary.domains.iter().map(|d| d.domain.as_str()).collect();
        assert_eq!(names, ["sender.example", "other.example"], "{}", t.name);
        let sender = &summary.domains[0];
        // rfc9990: 120 pass/pass, 30 fail/fail, 5 dkim fail spf pass; rfc7489: 40 dkim pass, 5 fail.
        assert_eq!(sender.reports, 2);
        assert_eq!(sender.messages, 200);
        assert_eq!(sender.dmarc_pass, 165);
        assert_eq!(sender.spf_aligned_pass, 125);
        assert_eq!(sender.dkim_aligned_pass, 160);
        assert!((sender.dmarc_pass_rate - 0.825).abs() < 1e-9);
        let top: Vec<(&str, i64, i64, i64)> = sender
            .top_sources
            .iter()
            .map(|s| (s.ip.as_str(), s.messages, s.pass, s.fail))
            .collect();
        assert_eq!(
            top,
            [
                ("192.0.2.10", 160, 160, 0),
                ("198.51.100.7", 30, 0, 30),
                ("2001:db8::25", 5, 5, 0),
                ("203.0.113.99", 5, 0, 5)
            ],
            "{}",
            t.name
        );
        let failing: Vec<(&str, i64)> = sender
            .failing_sources
            .iter()
            .map(|s| (s.ip.as_str(), s.fail))
            .collect();
        assert_eq!(
            failing,
            [("198.51.100.7", 30), ("203.0.113.99", 5)],
            "{}",
            t.name
        );
        let dispositions: Vec<(&str, i64)> = sender
            .dispositions
            .iter()
            .map(|c| (c.name.as_str(), c.count))
            .collect();
        assert_eq!(
            dispositions,
            [
                ("pass", 120),
                ("none", 40),
                ("reject", 30),
                ("quarantine", 10)
            ],
            "{}",
            t.name
        );
        assert_eq!(sender.overrides.len(), 2);
        assert_eq!(sender.overrides[0].kind, "local_policy");
        assert_eq!(
            sender.overrides[0].comment.as_deref(),
            Some("Sender requirement failed: 550-5.7.30 Authentication required")
        );
        assert_eq!(sender.overrides[0].messages, 30);
        assert_eq!(
            (
                sender.overrides[1].kind.as_str(),
                sender.overrides[1].messages
            ),
            ("forwarded", 5)
        );

        assert_eq!(summary.tls.len(), 2, "{}", t.name);
        let sts = &summary.tls[1];
        assert_eq!(
            (sts.policy_domain.as_str(), sts.policy_type.as_str()),
            ("sender.example", "sts")
        );
        assert_eq!((sts.successful, sts.failed), (5326, 303));
        let failures: Vec<(&str, i64)> = sts
            .failures
            .iter()
            .map(|c| (c.name.as_str(), c.count))
            .collect();
        assert_eq!(
            failures,
            [
                ("starttls-not-supported", 200),
                ("certificate-expired", 100),
                ("validation-failure", 3)
            ],
            "{}",
            t.name
        );
        assert_eq!(
            (
                summary.tls[0].policy_type.as_str(),
                summary.tls[0].successful
            ),
            ("no-policy-found", 10)
        );

        assert_eq!(summary.complaints_by_dkim_domain.len(), 1, "{}", t.name);
        let c = &summary.complaints_by_dkim_domain[0];
        assert_eq!(
            (c.day.as_str(), c.key.as_str(), c.complaints),
            ("2026-11-27", "news.sender.example", 1)
        );
        let f = &summary.complaints_by_feedback_id[0];
        assert_eq!(
            (f.key.as_str(), f.complaints),
            ("campaign42:newsletter:mailer:sender", 1)
        );
        assert_eq!(summary.failure_reports.len(), 1);
        assert_eq!(summary.failure_reports[0].auth_failure, "dmarc");

        // The filter is read as stored domains are: any letter case, a trailing dot.
        for spelled in ["other.example", " Other.EXAMPLE. "] {
            let only = t
                .store
                .summary(&Filter {
                    domain: Some(spelled.into()),
                    ..Filter::default()
                })
                .unwrap();
            assert_eq!(only.domains.len(), 1, "{}: {spelled:?}", t.name);
            assert_eq!(only.domains[0].domain, "other.example");
            assert_eq!(only.domains[0].messages, 3);
            assert!(only.complaints_by_dkim_domain.is_empty());
        }
        let late = t
            .store
            .summary(&Filter {
                since: Some(1_795_737_600),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(
            late.domains.len(),
            1,
            "{}: only the RFC 9990 report begins that day",
            t.name
        );
        assert_eq!(late.domains[0].messages, 155);
        let early = t
            .store
            .summary(&Filter {
                until: Some(1_795_651_200),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(early.domains[0].domain, "other.example");
    }
}

#[test]
fn migrations_are_recorded_and_reopening_is_safe() {
    let t = sqlite_store();
    let path = t.url.trim_start_matches("sqlite:").to_owned();
    let mut again = Store::open_sqlite(std::path::Path::new(&path)).unwrap();
    assert_eq!(again.schema_version().unwrap(), 3);
    assert_eq!(
        again.count("SELECT COUNT(*) FROM schema_version").unwrap(),
        3
    );
    let mut pg = postgres_store();
    assert_eq!(pg.store.schema_version().unwrap(), 3);
}

/// Reporters reuse report ids: Mimecast for consecutive days, others across the domains they
/// report on. Such reports are different reports, all stored; the same report again is
/// still a duplicate.
#[test]
fn reports_that_reuse_an_id_for_another_day_or_domain_are_all_stored() {
    let dir = tempfile::tempdir().unwrap();
    let base = String::from_utf8(fixture("rfc7489.xml")).unwrap();
    let next_day = base
        .replace("<begin>1795651200<", "<begin>1795737600<")
        .replace("<end>1795737599<", "<end>1795823999<");
    let other_domain = base.replace(
        "<domain>sender.example</domain>\n    <adkim>",
        "<domain>other.example</domain>\n    <adkim>",
    );
    assert_ne!(other_domain, base);
    let paths: Vec<_> = [&base, &next_day, &other_domain]
        .iter()
        .enumerate()
        .map(|(i, xml)| write(dir.path(), &format!("{i}.xml"), xml.as_bytes()))
        .collect();
    for mut t in backends() {
        let first = ingest_all(&mut t.store, &paths);
        assert_eq!((first.reports, first.duplicates), (3, 0), "{}", t.name);
        let again = ingest_all(&mut t.store, &paths);
        assert_eq!((again.reports, again.duplicates), (0, 3), "{}", t.name);
        assert_eq!(
            t.store
                .count("SELECT COUNT(DISTINCT report_id) FROM reports")
                .unwrap(),
            1,
            "{}",
            t.name
        );
    }
}

fn million(mut t: crate::support::TestStore, n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xml");
    write_big_report(&path, "big.example", "big-1", n);
    let totals = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
    assert!(totals.errors.is_empty(), "{:?}", totals.errors);
    assert_eq!((totals.reports, totals.records), (1, n), "{}", t.name);
    assert_eq!(
        t.store
            .count("SELECT COUNT(*) FROM aggregate_records")
            .unwrap(),
        n as i64
    );
    // counts cycle 1, 2, 3: n/3 full cycles of 6 messages.
    let messages: i64 = (0..n as i64).map(|i| 1 + i % 3).sum();
    assert_eq!(
        t.store.count("SELECT messages FROM reports").unwrap(),
        messages
    );
    let again = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
    assert_eq!((again.reports, again.duplicates), (0, 1));
}

/// An input too large to hold in memory is hashed and archived on a second thread while it
/// is parsed: its row ends with the file's real SHA-256, the archive gives back its bytes,
/// and ingesting it again keeps nothing new (no second input row, no provisional digest).
#[test]
fn a_large_input_is_hashed_and_archived_while_it_is_parsed() {
    use sha2::{Digest, Sha256};
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.xml");
        write_big_report(&path, "large.example", "large-1", 25_000);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 8 << 20, "the input must be streamed");
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let totals = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!((totals.reports, totals.records), (1, 25_000), "{}", t.name);
        let rows = t
            .store
            .query("SELECT sha256, size FROM inputs", &[])
            .unwrap();
        assert_eq!(rows.len(), 1, "{}", t.name);
        assert_eq!(rows[0][0].text(), Some(sha.as_str()), "{}", t.name);
        assert_eq!(rows[0][1].int(), bytes.len() as i64, "{}", t.name);
        assert_eq!(
            t.store.archived(&sha).unwrap().as_deref(),
            Some(&bytes[..]),
            "{}",
            t.name
        );
        let chunks = t.store.count("SELECT COUNT(*) FROM input_chunks").unwrap();
        let again = t.store.ingest_file(&path, &Limits::default(), NOW).unwrap();
        assert_eq!((again.reports, again.duplicates), (0, 1), "{}", t.name);
        assert_eq!(
            t.store.count("SELECT COUNT(*) FROM inputs").unwrap(),
            1,
            "{}",
            t.name
        );
        assert_eq!(
            t.store.count("SELECT COUNT(*) FROM input_chunks").unwrap(),
            chunks,
            "{}",
            t.name
        );
    }
}

/// A report of 10^6 records streams into SQLite (counts only; timing is for the benchmark).
#[test]
fn a_million_records_into_sqlite() {
    million(sqlite_store(), 1_000_000);
}

/// The same report into PostgreSQL.
#[test]
fn a_million_records_into_postgres() {
    million(postgres_store(), 1_000_000);
}

fn ingest_batch(
    store: &mut Store,
    paths: &[std::path::PathBuf],
) -> Result<inkan_reports::IngestTotals, (usize, inkan_reports::StoreError)> {
    let mut seen = Vec::new();
    let result = store.ingest_files(paths, &Limits::default(), &|| NOW, &mut |i| seen.push(i));
    let stop = match &result {
        Ok(_) => paths.len(),
        Err((index, _)) => index + 1,
    };
    assert_eq!(seen, (0..stop).collect::<Vec<_>>(), "progress in order");
    result
}

/// `ingest_files` (files read and parsed ahead on other threads, small files sharing
/// transactions, a large one alone) stores exactly what `ingest_file` stores one by one.
#[test]
fn a_batch_stores_what_single_files_store() {
    for (mut one, mut batch) in [
        (sqlite_store(), sqlite_store()),
        (postgres_store(), postgres_store()),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = corpus(dir.path());
        // A file past the 1 MB read-ahead limit, between small ones.
        let big = dir.path().join("big.xml");
        write_big_report(&big, "big.example", "big-1", 3_000);
        paths.insert(3, big);
        let single = ingest_all(&mut one.store, &paths);
        let grouped = ingest_batch(&mut batch.store, &paths).unwrap();
        assert_eq!(grouped, single, "{}", batch.name);
        assert_eq!(grouped.records, 6 + 3_000, "{}", batch.name);
        assert_eq!(
            table_counts(&mut batch.store),
            table_counts(&mut one.store),
            "{}",
            batch.name
        );
        let again = ingest_batch(&mut batch.store, &paths).unwrap();
        assert_eq!((again.reports, again.duplicates), (0, 12), "{}", batch.name);
    }
}

/// An aggregate report with one record per address in `ips`.
fn small_report(id: &str, ips: &[&str]) -> Vec<u8> {
    let mut xml = format!(
        "<feedback><report_metadata><org_name>batch.example</org_name><report_id>{id}</report_id>\
         </report_metadata><policy_published><domain>batch.example</domain><p>none</p></policy_published>"
    );
    for ip in ips {
        xml.push_str(&format!(
            "<record><row><source_ip>{ip}</source_ip><count>1</count><policy_evaluated>\
             <disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>\
             <identifiers><header_from>batch.example</header_from></identifiers></record>"
        ));
    }
    xml.push_str("</feedback>");
    xml.into_bytes()
}

/// A store failure in the middle of a shared transaction rolls back that file alone: the
/// files before it are kept whole, nothing of the failing file is, and the error names it.
/// The failure is a trigger refusing one record, after its report row and earlier records
/// were written.
#[test]
fn a_store_failure_in_a_batch_rolls_back_that_file_alone() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![
            write(
                dir.path(),
                "a.xml",
                &small_report("a", &["192.0.2.1", "192.0.2.2"]),
            ),
            write(
                dir.path(),
                "b.xml",
                &small_report("b", &["192.0.2.3", "198.51.100.66"]),
            ),
            write(dir.path(), "c.xml", &small_report("c", &["192.0.2.4"])),
        ];
        let refuse: &[&str] = match t.name {
            "sqlite" => &["CREATE TRIGGER refuse BEFORE INSERT ON aggregate_records \
                 WHEN NEW.source_ip = '198.51.100.66' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
            _ => &[
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON aggregate_records FOR EACH ROW \
                 WHEN (NEW.source_ip = '198.51.100.66') EXECUTE FUNCTION refuse()",
            ],
        };
        for statement in refuse {
            t.store.query(statement, &[]).unwrap();
        }
        let (index, err) = ingest_batch(&mut t.store, &paths).unwrap_err();
        assert_eq!(index, 1, "{}", t.name);
        assert!(err.to_string().contains("refused"), "{}: {err}", t.name);
        let ids = t
            .store
            .query("SELECT report_id FROM reports ORDER BY report_id", &[])
            .unwrap();
        let ids: Vec<_> = ids
            .iter()
            .map(|r| r[0].text().unwrap().to_owned())
            .collect();
        assert_eq!(ids, ["a"], "{}", t.name);
        assert_eq!(
            table_counts(&mut t.store),
            [1, 1, 1, 2, 0, 0, 0, 0],
            "{}: only file a",
            t.name
        );
        // Once the trigger is gone, the same batch completes.
        let drop = match t.name {
            "sqlite" => "DROP TRIGGER refuse",
            _ => "DROP TRIGGER refuse ON aggregate_records",
        };
        t.store.query(drop, &[]).unwrap();
        let rerun = ingest_batch(&mut t.store, &paths).unwrap();
        assert_eq!((rerun.reports, rerun.duplicates), (2, 1), "{}", t.name);
        assert_eq!(table_counts(&mut t.store)[3], 5, "{}", t.name);
    }
}

/// Reading a known input again first forgets the errors its last reading recorded; when that
/// reading then fails to store, the forgotten errors come back with the rest undone, so
/// `inkan reports errors` still shows them. The failure is a trigger refusing the error row
/// the new reading writes.
#[test]
fn a_store_failure_on_a_known_input_keeps_its_old_errors() {
    for mut t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "good.xml", &small_report("g", &["192.0.2.1"]));
        let broken = write(dir.path(), "broken.xml", b"<feedback><report_metadata>");
        let paths = vec![good, broken];
        let first = ingest_batch(&mut t.store, &paths).unwrap();
        assert_eq!(first.errors.len(), 1, "{}", t.name);
        let errors = "SELECT id, input_id, path, location, error, created_at FROM ingest_errors";
        let before = t.store.query(errors, &[]).unwrap();
        assert_eq!(before.len(), 1, "{}", t.name);
        let refuse: &[&str] = match t.name {
            "sqlite" => &["CREATE TRIGGER refuse BEFORE INSERT ON ingest_errors \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END"],
            _ => &[
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON ingest_errors FOR EACH ROW \
                 EXECUTE FUNCTION refuse()",
            ],
        };
        for statement in refuse {
            t.store.query(statement, &[]).unwrap();
        }
        let (index, err) = ingest_batch(&mut t.store, &paths).unwrap_err();
        assert_eq!(index, 1, "{}", t.name);
        assert!(err.to_string().contains("refused"), "{}: {err}", t.name);
        assert_eq!(
            t.store.query(errors, &[]).unwrap(),
            before,
            "{}: the old error, as it was",
            t.name
        );
        assert_eq!(
            table_counts(&mut t.store),
            [2, 2, 1, 1, 0, 0, 0, 1],
            "{}",
            t.name
        );
    }
}
