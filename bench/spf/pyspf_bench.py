"""pyspf side of the SPF comparison (see bench/spf/README.md).

usage: python3 pyspf_bench.py 127.0.0.1:PORT CHECKS.jsonl cold|warm

Runs every check of CHECKS.jsonl ({"ip", "sender", "helo"} per line) through pyspf 2.0.14 with
dnspython pointed at the given server, on one core, and prints one JSON line:
{"checks": N, "seconds": S, "pass": P}. "warm" gives dnspython a cache and fills it with one
untimed pass first; "cold" has no cache, so every lookup goes to the server.
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
    start = time.perf_counter()
    passed = run()
    seconds = time.perf_counter() - start
    print(json.dumps({"checks": len(checks), "seconds": seconds, "pass": passed}))


if __name__ == "__main__":
    main()
