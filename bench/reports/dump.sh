#!/bin/bash
# dump.sh DB OUT: everything an ingest stored, without ids and timestamps, in a stable order.
db=$1; out=$2
sqlite3 -batch "$db" > "$out" <<'SQL'
.mode list
.separator "|"
.nullvalue NULL
SELECT 'input', i.sha256, i.path, i.size FROM inputs i ORDER BY i.sha256;
SELECT 'chunk', i.sha256, c.seq, length(c.data), hex(sha3(c.data)) FROM input_chunks c JOIN inputs i ON i.id = c.input_id ORDER BY i.sha256, c.seq;
SELECT 'report', i.sha256, r.kind, r.org_name, r.report_id, r.location, r.domain, r.date_begin, r.date_end, r.schema_name, r.email, r.policy_p, r.policy_sp, r.policy_np, r.policy_adkim, r.policy_aspf, r.policy_pct, r.policy_testing, r.records, r.messages, r.detail, r.warnings FROM reports r JOIN inputs i ON i.id = r.input_id ORDER BY r.kind, r.org_name, r.report_id;
SELECT 'record', r.org_name, r.report_id, a.source_ip, a.count, a.disposition, a.dkim_aligned, a.spf_aligned, a.header_from, a.envelope_from, a.envelope_to, a.dkim_domain, a.dkim_selector, a.dkim_result, a.spf_domain, a.spf_scope, a.spf_result, a.reason_type, a.reason_comment, a.extra FROM aggregate_records a JOIN reports r ON r.id = a.report_id ORDER BY r.kind, r.org_name, r.report_id, a.rowid;
SELECT 'error', i.sha256, e.path, e.location, e.error FROM ingest_errors e JOIN inputs i ON i.id = e.input_id ORDER BY i.sha256, e.location;
SQL
