#!/usr/bin/env python3
"""Generates the report corpus for the ingest benchmark: N aggregate reports of 1-50 records
(every third one gzipped) and one report of BIG records, all in the RFC 9990 / RFC 7489 shape.
Deterministic (seeded), written without holding the big report in memory."""
import gzip
import os
import random
import sys

RECORD = """  <record>
    <row>
      <source_ip>{ip}</source_ip>
      <count>{count}</count>
      <policy_evaluated>
        <disposition>{disp}</disposition>
        <dkim>{dkim}</dkim>
        <spf>{spf}</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_from>{domain}</envelope_from>
      <header_from>{domain}</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>{domain}</domain>
        <selector>s1</selector>
        <result>{dkim}</result>
      </dkim>
      <spf>
        <domain>{domain}</domain>
        <scope>mfrom</scope>
        <result>{spf}</result>
      </spf>
    </auth_results>
  </record>
"""


def header(org, report_id, domain, begin):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>{org}</org_name>
    <email>dmarc@{org}</email>
    <report_id>{report_id}</report_id>
    <date_range>
      <begin>{begin}</begin>
      <end>{begin + 86399}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>{domain}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>reject</p>
    <sp>reject</sp>
    <pct>100</pct>
  </policy_published>
"""


def record(rng, i, domain):
    ok = rng.random() < 0.8
    return RECORD.format(
        ip=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        count=rng.randint(1, 500),
        disp="none" if ok else "reject",
        dkim="pass" if ok else "fail",
        spf="pass" if ok or rng.random() < 0.3 else "fail",
        domain=domain,
    )


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    big = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    rng = random.Random(42)
    small = os.path.join(out, "small")
    os.makedirs(small, exist_ok=True)
    records = 0
    for n in range(count):
        org = f"receiver{n % 17}.example"
        domain = f"sender{n % 50}.example"
        k = rng.randint(1, 50)
        records += k
        body = header(org, f"bench-{n}", domain, 1795737600 - 86400 * (n % 30))
        body += "".join(record(rng, n * 64 + i, domain) for i in range(k)) + "</feedback>\n"
        data = body.encode()
        name = f"{org}!{domain}!{n}.xml"
        if n % 3 == 0:
            with gzip.open(os.path.join(small, name + ".gz"), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(small, name), "wb") as f:
                f.write(data)
    with open(os.path.join(out, "big.xml"), "w") as f:
        f.write(header("big.example", "bench-big", "big.example", 1795737600))
        for i in range(big):
            f.write(record(rng, i, "big.example"))
        f.write("</feedback>\n")
    print(f"{count} small reports with {records} records, 1 report with {big} records")


if __name__ == "__main__":
    main()
