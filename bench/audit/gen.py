#!/usr/bin/env python3
"""Generates N realistic mail domains as one NSD zone (bench.test) plus the domain list.

Each domain dNNNNNN.bench.test has MX, A, an SPF record with an include of one of 20 shared
provider records (some of which include a second level), a DKIM key at one of a few selectors,
DMARC (mostly p=reject/quarantine with rua, some p=none, some absent), and for a share of
domains MTA-STS and TLS-RPT records. Mistakes are sprinkled in (missing SPF, ~all, 1024-bit
keys) so that checks take every path.

usage: gen.py N OUTDIR
writes OUTDIR/test.zone (the zone "test", so the DMARC tree walk up to _dmarc.test is answered),
OUTDIR/in-addr.arpa.zone (reverse names of the providers' outbound addresses),
OUTDIR/domains.csv (domain,selector) and OUTDIR/domains.txt
"""
import base64
import os
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = random.Random(42)


def fake_rsa_spki(bits):
    # A syntactically valid SubjectPublicKeyInfo for an RSA key of `bits` bits. The modulus is
    # random (not a real key): audits read its size, they never verify with it.
    mod = bytearray(rng.getrandbits(8) for _ in range(bits // 8))
    mod[0] |= 0x80
    mod[-1] |= 1

    def der_len(k):
        if k < 128:
            return bytes([k])
        b = k.to_bytes((k.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(b)]) + b

    def tlv(tag, body):
        return bytes([tag]) + der_len(len(body)) + body

    n_int = tlv(0x02, b"\x00" + bytes(mod))
    e_int = tlv(0x02, b"\x01\x00\x01")
    rsa = tlv(0x30, n_int + e_int)
    alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = tlv(0x30, alg + tlv(0x03, b"\x00" + rsa))
    return base64.b64encode(spki).decode()


def txt(s):
    parts = [s[i:i + 250] for i in range(0, len(s), 250)]
    return " ".join('"' + p + '"' for p in parts)


KEYS = {2048: [fake_rsa_spki(2048) for _ in range(8)], 1024: [fake_rsa_spki(1024) for _ in range(4)]}
SELECTORS = ["s1", "google", "selector1", "k1", "default", "mail"]

with open(os.path.join(out, "in-addr.arpa.zone"), "w") as r:
    r.write("$ORIGIN in-addr.arpa.\n$TTL 3600\n@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300\n@ NS ns.bench.test.\n")
    for p in range(20):
        r.write(f"10.{p}.51.198 PTR mx{p}.prov{p}.bench.test.\n")

with open(os.path.join(out, "test.zone"), "w") as z, \
        open(os.path.join(out, "domains.csv"), "w") as csv, \
        open(os.path.join(out, "domains.txt"), "w") as plain:
    z.write("$TTL 3600\ntest. SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300\ntest. NS ns.bench.test.\n")
    z.write("$ORIGIN bench.test.\nns A 127.0.0.1\n")
    for p in range(20):
        z.write(f"mx{p}.prov{p} A 198.51.{p}.10\n")
        inner = f" include:_spf2.prov{p}.bench.test" if p % 3 == 0 else ""
        z.write(f"_spf.prov{p} TXT {txt(f'v=spf1 ip4:198.51.{p}.0/24 ip6:2001:db8:{p}::/48{inner} -all')}\n")
        if inner:
            z.write(f"_spf2.prov{p} TXT {txt(f'v=spf1 ip4:203.0.{p}.0/24 -all')}\n")
    csv.write("domain,selectors\n")
    for i in range(n):
        d = f"d{i:06d}"
        p = rng.randrange(20)
        z.write(f"{d} MX 10 mx{p}.prov{p}.bench.test.\n{d} A 192.0.{i % 250}.{(i // 250) % 250 + 1}\n")
        r = rng.random()
        if r < 0.05:
            pass  # no SPF
        else:
            allq = "~all" if r < 0.25 else "-all"
            z.write(f"{d} TXT {txt(f'v=spf1 mx include:_spf.prov{p}.bench.test {allq}')}\n")
        sel = rng.choice(SELECTORS)
        bits = 1024 if rng.random() < 0.1 else 2048
        key = rng.choice(KEYS[bits])
        z.write(f"{sel}._domainkey.{d} TXT {txt('v=DKIM1; k=rsa; p=' + key)}\n")
        r = rng.random()
        if r < 0.6:
            z.write(f"_dmarc.{d} TXT {txt(f'v=DMARC1; p=reject; rua=mailto:dmarc@{d}.bench.test')}\n")
        elif r < 0.8:
            z.write(f"_dmarc.{d} TXT {txt('v=DMARC1; p=quarantine; adkim=s')}\n")
        elif r < 0.92:
            z.write(f"_dmarc.{d} TXT {txt('v=DMARC1; p=none')}\n")
        if rng.random() < 0.3:
            z.write(f"_mta-sts.{d} TXT {txt(f'v=STSv1; id=2026{i}')}\n")
            z.write(f"_smtp._tls.{d} TXT {txt(f'v=TLSRPTv1; rua=mailto:tls@{d}.bench.test')}\n")
        csv.write(f"{d}.bench.test,{sel}\n")
        plain.write(f"{d}.bench.test\n")
