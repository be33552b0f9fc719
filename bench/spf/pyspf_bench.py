"""pyspf side of the SPF comparison (see bench/spf/README.md).

usage: python3 pyspf_bench.py 127.0.0.1:PORT CHECKS.jsonl cold|warm [PASSES]

Runs every check of CHECKS.jsonl ({"ip", "sender", "helo"} per line) through pyspf 2.0.14 with
dnspython pointed at the given server, on one core. "warm" gives dnspython a cache and fills it
with one untimed pass first; "cold" has no cache, so every lookup goes to the server. Then it
prints "ready" and waits for a line on stdin (the driver, crates/inkan-auth/benches/spf_peers.rs,
reads the server's query counter meanwhile), times PASSES passes (default 1) and prints one JSON
line with the smallest times seen:
{"checks": N, "seconds": S, "cpu_seconds": C, "pass": P} (C: this thread's CPU time).
"""
import json
import sys
import time

import dns.resolver
import spf


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    checks = [json.loads(line) for line in open(sys.argv[2])]
    mode = sys.argv[3]
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.lifetime = 5.0
    if mode == "warm":
        resolver.cache = dns.resolver.LRUCache(100000)
    dns.resolver.default_resolver = resolver

    def run():
        passed = 0
        for c in checks:
            result, _ = spf.check2(i=c["ip"], s=c["sender"], h=c["helo"], querytime=0, timeout=5)
            passed += result == "pass"
        return passed

    if mode == "warm":
        run()
    print("ready", flush=True)
    sys.stdin.readline()
    passes = max(1, int(sys.argv[4])) if len(sys.argv) > 4 else 1
    seconds = cpu_seconds = float("inf")
    for _ in range(passes):
        start, cpu = time.perf_counter(), time.thread_time()
        passed = run()
        seconds = min(seconds, time.perf_counter() - start)
        cpu_seconds = min(cpu_seconds, time.thread_time() - cpu)
    print(json.dumps({"checks": len(checks), "seconds": seconds, "cpu_seconds": cpu_seconds,
                      "pass": passed}), flush=True)


if __name__ == "__main__":
    main()
