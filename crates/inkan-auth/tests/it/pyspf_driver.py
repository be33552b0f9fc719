"""Runs pyspf (the SPF interop peer) against the DNS server named on the command line.

Reads one JSON object per line on stdin ({"ip", "sender", "helo"}) and writes one per line on
stdout ({"result", "explanation"}), in order. Used by spf_interop.rs.
"""
import json
import sys

import dns.resolver
import spf


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.lifetime = 2.0
    resolver.timeout = 2.0
    dns.resolver.default_resolver = resolver
    for line in sys.stdin:
        case = json.loads(line)
        try:
            result, explanation = spf.check2(i=case["ip"], s=case["sender"], h=case["helo"], timeout=5, querytime=0)
        except Exception as err:  # a crash is a result to compare, not a reason to stop
            result, explanation = "crash", repr(err)
        print(json.dumps({"result": result, "explanation": explanation}), flush=True)


if __name__ == "__main__":
    main()
