#!/usr/bin/env python3
"""Parses report files (or every file under the directories given) with parsedmarc's API,
offline (no DNS, no downloads: `offline=True` and the bundled local files), and prints the
records and reports parsed, to compare with `inkan reports ingest`. parsedmarc stores nothing;
the clock starts after the import, so only parsing is timed."""
import os
import sys
import time

import parsedmarc


def files(args):
    for arg in args:
        if os.path.isdir(arg):
            for root, _dirs, names in os.walk(arg):
                for name in sorted(names):
                    yield os.path.join(root, name)
        else:
            yield arg


def parse(path):
    params = parsedmarc.parse_report_file.__code__.co_varnames
    if "always_use_local_files" in params:
        return parsedmarc.parse_report_file(path, offline=True, always_use_local_files=True)
    return parsedmarc.parse_report_file(path, offline=True)


paths = sorted(files(sys.argv[1:]))
start = time.perf_counter()
cpu = time.process_time()
reports = records = 0
for path in paths:
    result = parse(path)
    reports += 1
    records += len(result["report"]["records"])
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu
print(f"parsedmarc {parsedmarc.__version__}: {reports} reports, {records} records in {elapsed:.2f} s "
      f"({cpu:.2f} s CPU): {records / elapsed:,.0f} records/s, {reports / elapsed:,.1f} reports/s")
