//! The database schema and its migrations. `schema_version` holds the version reached; each
//! migration moves one step and runs inside the transaction that records it. The two dialects
//! differ only in key, blob and integer spellings.

/// The newest schema version this build knows.
pub(crate) const CURRENT: i64 = 3;

/// The tables of version 1, with `{ID}` (auto-incrementing key), `{BLOB}` and `{BIG}` to fill.
const V1: &str = "
CREATE TABLE inputs (
    id {ID},
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    size {BIG} NOT NULL,
    ingested_at {BIG} NOT NULL
);
CREATE TABLE input_chunks (
    input_id {BIG} NOT NULL REFERENCES inputs(id),
    seq {BIG} NOT NULL,
    data {BLOB} NOT NULL,
    PRIMARY KEY (input_id, seq)
);
CREATE TABLE reports (
{REPORTS_COLUMNS}
    UNIQUE (kind, org_name, report_id)
);
CREATE INDEX reports_domain ON reports (domain, date_begin);
CREATE TABLE aggregate_records (
{RECORDS_COLUMNS}
);
CREATE INDEX aggregate_records_report ON aggregate_records (report_id);
CREATE TABLE tls_policies (
    report_id {BIG} NOT NULL,
    policy_index {BIG} NOT NULL,
    policy_type TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    mx_host TEXT,
    policy_string TEXT,
    successful {BIG} NOT NULL,
    failed {BIG} NOT NULL
);
CREATE TABLE tls_failures (
    report_id {BIG} NOT NULL,
    policy_index {BIG} NOT NULL,
    result_type TEXT NOT NULL,
    sending_mta_ip TEXT,
    receiving_mx_hostname TEXT,
    receiving_ip TEXT,
    failed_count {BIG} NOT NULL,
    failure_reason_code TEXT,
    additional_information TEXT
);
CREATE TABLE feedback (
    report_id {BIG} NOT NULL,
    feedback_type TEXT NOT NULL,
    user_agent TEXT,
    version TEXT,
    source_ip TEXT,
    original_mail_from TEXT,
    original_rcpt_to TEXT,
    arrival_date TEXT,
    arrival_ts {BIG},
    reporting_mta TEXT,
    reported_domain TEXT,
    authentication_results TEXT,
    auth_failure TEXT,
    delivery_result TEXT,
    dkim_domain TEXT,
    feedback_id TEXT,
    original_from_domain TEXT
);
CREATE TABLE ingest_errors (
    id {ID},
    input_id {BIG} NOT NULL REFERENCES inputs(id),
    path TEXT NOT NULL,
    location TEXT NOT NULL,
    error TEXT NOT NULL,
    created_at {BIG} NOT NULL,
    UNIQUE (input_id, location)
);
";

/// The column definitions of `aggregate_records` in version 1, which version 3 keeps.
const RECORDS_COLUMNS: &str = "    report_id {BIG} NOT NULL,
    source_ip TEXT NOT NULL,
    count {BIG} NOT NULL,
    disposition TEXT,
    dkim_aligned TEXT,
    spf_aligned TEXT,
    header_from TEXT,
    envelope_from TEXT,
    envelope_to TEXT,
    dkim_domain TEXT,
    dkim_selector TEXT,
    dkim_result TEXT,
    spf_domain TEXT,
    spf_scope TEXT,
    spf_result TEXT,
    reason_type TEXT,
    reason_comment TEXT,
    extra TEXT";

/// The column definitions of `reports` in version 1 (each line ending in a comma), which
/// version 2 keeps.
const REPORTS_COLUMNS: &str = "    id {ID},
    kind TEXT NOT NULL,
    org_name TEXT NOT NULL,
    report_id TEXT NOT NULL,
    input_id {BIG} NOT NULL REFERENCES inputs(id),
    location TEXT NOT NULL,
    domain TEXT,
    date_begin {BIG},
    date_end {BIG},
    schema_name TEXT,
    email TEXT,
    policy_p TEXT,
    policy_sp TEXT,
    policy_np TEXT,
    policy_adkim TEXT,
    policy_aspf TEXT,
    policy_pct {BIG},
    policy_testing TEXT,
    records {BIG} NOT NULL DEFAULT 0,
    messages {BIG} NOT NULL DEFAULT 0,
    detail TEXT,
    warnings TEXT,";

/// Version 2: a report is the same report when its kind, reporting organisation and report id
/// are the same *and*, for an aggregate report, its policy domain and period. Reporters reuse
/// ids: Mimecast sends one id for consecutive days, and others number their reports per day
/// across the domains they report on; keyed on the id alone, those reports were taken for
/// duplicates and lost. `period` holds `domain|begin|end` of aggregate reports ('' for the
/// other kinds). SQLite cannot drop a table's UNIQUE constraint, so the table is rebuilt.
const V2_SQLITE: &str = "
CREATE TABLE reports_v2 (
{REPORTS_COLUMNS}
    period TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, org_name, report_id, period)
);
INSERT INTO reports_v2 ({COLUMN_NAMES}, period) SELECT {COLUMN_NAMES}, {PERIOD} FROM reports;
DROP TABLE reports;
ALTER TABLE reports_v2 RENAME TO reports;
CREATE INDEX reports_domain ON reports (domain, date_begin);
";

/// Version 2 in PostgreSQL (see [`V2_SQLITE`]): the column added and the constraint replaced.
const V2_POSTGRES: &str = "
ALTER TABLE reports ADD COLUMN period TEXT NOT NULL DEFAULT '';
UPDATE reports SET period = {PERIOD};
ALTER TABLE reports DROP CONSTRAINT reports_kind_org_name_report_id_key;
ALTER TABLE reports ADD CONSTRAINT reports_identity UNIQUE (kind, org_name, report_id, period);
";

/// Version 3, SQLite only: aggregate records keyed by their report and their place in it,
/// `id = report_id * 2^32 + position` ([`RECORD_KEY_SPAN`]), as the table's `INTEGER PRIMARY
/// KEY`, instead of an implicit rowid and an index on `report_id`. The records of a report
/// are then one range of the table's own B-tree, found without an index ([`records_of`]),
/// and storing a record no longer inserts into a second B-tree: that index was a third of
/// SQLite's work per stored record. Existing records get their key in their stored order.
const V3_SQLITE: &str = "
CREATE TABLE aggregate_records_v3 (
    id INTEGER PRIMARY KEY,
{RECORDS_COLUMNS}
);
INSERT INTO aggregate_records_v3 (id, {RECORD_NAMES}) SELECT report_id * 4294967296 + \
    ROW_NUMBER() OVER (PARTITION BY report_id ORDER BY rowid) - 1, {RECORD_NAMES} FROM aggregate_records;
DROP TABLE aggregate_records;
ALTER TABLE aggregate_records_v3 RENAME TO aggregate_records;
";

/// Records per report an SQLite key leaves room for (see [`V3_SQLITE`]): `2^32`.
pub(crate) const RECORD_KEY_SPAN: i64 = 1 << 32;

/// The condition that selects the records of report `report` (an SQL expression) in
/// `aggregate_records` seen as `table` (its name or alias): a key range on SQLite, which has
/// no index on `report_id` (version 3), the indexed column on PostgreSQL.
pub(crate) fn records_of(dialect: Dialect, table: &str, report: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!(
            "{table}.id BETWEEN {report} * 4294967296 AND {report} * 4294967296 + 4294967295"
        ),
        Dialect::Postgres => format!("{table}.report_id = {report}"),
    }
}

/// `period` of an existing row, as [`crate::ingest`] writes it for new ones.
const PERIOD_OF_ROW: &str = "CASE WHEN kind = 'aggregate' THEN COALESCE(domain, '') || '|' || \
    COALESCE(CAST(date_begin AS TEXT), '') || '|' || COALESCE(CAST(date_end AS TEXT), '') \
    ELSE '' END";

/// The names of the columns `definitions` (one per line) defines, comma-separated.
fn column_names(definitions: &str) -> String {
    definitions
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The DDL of migration `version` (1-based) in `dialect`.
pub(crate) fn migration(version: i64, dialect: Dialect) -> Option<String> {
    let (id, blob, big) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "BLOB", "INTEGER"),
        Dialect::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BYTEA",
            "BIGINT",
        ),
    };
    let text = match (version, dialect) {
        (1, _) => V1,
        (2, Dialect::Sqlite) => V2_SQLITE,
        (2, Dialect::Postgres) => V2_POSTGRES,
        (3, Dialect::Sqlite) => V3_SQLITE,
        // PostgreSQL keeps its index on `report_id` (and `COPY` appends without it costing
        // what it cost SQLite): nothing to change.
        (3, Dialect::Postgres) => "",
        _ => return None,
    };
    Some(
        text.replace("{REPORTS_COLUMNS}", REPORTS_COLUMNS)
            .replace("{RECORDS_COLUMNS}", RECORDS_COLUMNS)
            .replace("{RECORD_NAMES}", &column_names(RECORDS_COLUMNS))
            .replace("{ID}", id)
            .replace("{BLOB}", blob)
            .replace("{BIG}", big)
            .replace("{COLUMN_NAMES}", &column_names(REPORTS_COLUMNS))
            .replace("{PERIOD}", PERIOD_OF_ROW),
    )
}
