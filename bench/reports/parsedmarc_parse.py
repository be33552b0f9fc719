#!/usr/bin/env python3
"""Parses report files with parsedmarc's API, offline (no DNS, no downloads), and prints the
records and reports parsed, to compare with `inkan reports ingest`. parsedmarc stores nothing."""
import sys
import time

import parsedmarc

paths = sys.argv[1:]
start = time.perf_counter()
reports = records = 0
for path in paths:
    result = parsedmarc.parse_report_file(path, offline=True, nameservers=None, always_use_local_files=True) \
        if "always_use_local_files" in parsedmarc.parse_report_file.__code__.co_varnames \
        else parsedmarc.parse_report_file(path, offline=True)
    reports += 1
    records += len(result["report"]["records"])
elapsed = time.perf_counter() - start
print(f"parsedmarc: {reports} reports, {records} records in {elapsed:.2f} s: "
      f"{records / elapsed:,.0f} records/s, {reports / elapsed:,.1f} reports/s")
