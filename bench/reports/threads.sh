#!/bin/bash
# CPU seconds per thread of one `inkan reports ingest` run into a fresh SQLite file, from
# `perf record` samples at 1000 Hz, each thread named by its role as its stacks show it:
# ingest (stores small files; for a large report, parses it and commits; "parse" when only
# its parsing shows in the samples' stacks), store-records
# (stores a large report's records while "ingest" parses), archive (hashes and archives a
# large input while it is parsed), read (reads, hashes, archives and parses small files
# ahead of "ingest"). Roles come from frame-pointer stacks and are best effort: a thread
# whose samples never show its role is printed by its id. Needs perf and a release build with
# line tables (the workspace's release profile has them).
#
#   bench/reports/threads.sh target/release/inkan /tmp/rb/small
#   bench/reports/threads.sh target/release/inkan /tmp/rb/big.xml
set -euo pipefail
bin=$1
input=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf record -q -F 1000 -g -o "$work/perf.data" "$bin" --format json reports ingest \
    --db "sqlite:$work/x.db" "$input" >/dev/null 2>"$work/stderr"
perf script -i "$work/perf.data" -F tid,ip,sym 2>/dev/null | awk '
    function mark(r, rank) { if (rank > best[tid]) { best[tid] = rank; role[tid] = r } }
    /^[0-9]+ *$/ { tid = $1; n[tid]++; next }
    index($0, "archive_to") { mark("archive", 4); next }
    index($0, "Collect as") || index($0, "read_input") { mark("read", 3); next }
    index($0, "store_pipelined::{{closure}}") { mark("store-records", 2); next }
    index($0, "in_group") || index($0, "ingest_alone") || index($0, "store_ahead") { mark("ingest", 1); next }
    index($0, "next_record") { mark("parse", 0.5); next }
    END { for (t in n) if (n[t] > 20) printf "%s %.2f s\n", (role[t] != "" ? role[t] : "thread " t), n[t] / 1000 }'
