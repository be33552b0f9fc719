#!/usr/bin/env python3
"""Audits a domain list with checkdmarc's Python API against a local name server.

checkdmarc's command line only talks to port 53, so this builds a dnspython resolver pointed at
IP:PORT and passes it in, as the command line does with its own resolver.

usage: checkdmarc_run.py IP PORT DOMAINS_TXT LIMIT
prints: domains, seconds, domains/s, peak RSS (MB)
"""
import resource
import sys
import time

import dns.nameserver
import dns.resolver
import checkdmarc

ip, port, path, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(path) as f:
    domains = [line.strip() for line in f if line.strip() and not line.startswith("#")][:limit]

# Every resolver checkdmarc makes (its DNSSEC check builds its own) must ask only the local
# server: nothing in a benchmark may reach public DNS.
_original_init = dns.resolver.Resolver.__init__


def _local_only(self, *args, **kwargs):
    _original_init(self, configure=False)
    self.nameservers = [ip]
    self.port = port


dns.resolver.Resolver.__init__ = _local_only
dns.resolver.default_resolver = None

local = dns.nameserver.Do53Nameserver(ip, port)
resolver = dns.resolver.Resolver()
resolver.timeout = 2.0
resolver.lifetime = 2.0

start = time.monotonic()
for d in domains:
    checkdmarc.check_domains([d], nameservers=[local], resolver=resolver, timeout=2.0)
elapsed = time.monotonic() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"checkdmarc: {len(domains)} domains in {elapsed:.1f}s = {len(domains) / elapsed:.1f} domains/s, peak RSS {rss_mb:.0f} MB")
