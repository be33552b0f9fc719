#!/usr/bin/env python3
"""Malformed and unusual variants of aggregate reports, for checking that two builds of
`inkan reports ingest` store the same (see README.md, eighth round).

    python3 bench/reports/variants.py DIR
"""
import gzip, os, random, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(8)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import header  # noqa: E402  (the head of the benchmark's own reports)


def head(ns, rid):
    """The report's head, its root element with the namespace attribute `ns`."""
    return header("variant.example", rid, "sender.example", 1794009600).replace(
        "<feedback>", f"<feedback{ns}>", 1
    )

def record(i):
    return f"""  <record>
    <row>
      <source_ip>10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}</source_ip>
      <count>{1 + i * 7 % 500}</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>pass</dkim>
        <spf>fail</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_from>sender.example</envelope_from>
      <header_from>sender.example</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>sender.example</domain>
        <selector>s1</selector>
        <result>pass</result>
      </dkim>
      <spf>
        <domain>sender.example</domain>
        <scope>mfrom</scope>
        <result>fail</result>
      </spf>
    </auth_results>
  </record>
"""

def sub(old, new):
    return lambda r: r.replace(old, new, 1)

MUTATIONS = {
    "bad_utf8": sub("<header_from>sender", "<header_from>s\xffender"),
    "bad_utf8_tag_region": sub("<selector>s1", "<selector>s\xc3\x28"),
    "control": sub("<header_from>sender", "<header_from>se\x01nder"),
    "control_tab_ok": sub("<selector>s1", "<selector>s\t1"),
    "entity_amp": sub("<selector>s1", "<selector>a&amp;b&lt;&gt;&quot;&apos;&#65;&#x42;"),
    "entity_unknown": sub("<selector>s1", "<selector>a&foo;b"),
    "dangling_amp": sub("<selector>s1", "<selector>a & b"),
    "cdata": sub("<selector>s1", "<selector><![CDATA[s<1>]]>"),
    "comment": sub("<row>", "<row><!-- a comment -->"),
    "comment_in_value": sub("<selector>s1", "<selector>s<!-- c -->1"),
    "pi": sub("<row>", "<row><?pi x?>"),
    "prefix_inner": lambda r: r.replace("<row>", "<d:row>").replace("</row>", "</d:row>"),
    "attribute": sub("<row>", '<row a="1">'),
    "attribute_record": sub("<record>", '<record id="x">'),
    "space_in_tag": sub("<row>", "<row >"),
    "space_in_end": sub("</row>", "</row >"),
    "upper_values": lambda r: r.replace("<disposition>none", "<disposition>NONE").replace("<result>pass", "<result>Pass"),
    "upper_elements": lambda r: r.replace("<row>", "<ROW>").replace("</row>", "</ROW>"),
    "ws_values": lambda r: r.replace("<source_ip>", "<source_ip> ").replace("</count>", "\n </count>"),
    "nbsp": sub("<selector>s1", "<selector>\u00a0s1\u2003"),
    "nbsp_only": sub("<selector>s1", "<selector>\u00a0"),
    "non_ascii": sub("<selector>s1", "<selector>sélecteur ☃"),
    "unknown_leaf": sub("</row>", "<x_vendor>1</x_vendor></row>"),
    "unknown_tree": sub("</identifiers>", "<x><y>1</y><z><w>2</w></z></x></identifiers>"),
    "unknown_in_record": sub("</record>", "<x-vendor.a>v</x-vendor.a><x:y>w</x:y></record>"),
    "unknown_in_auth": sub("<selector>", "<x>q</x><selector>"),
    "empty_elements": sub("</identifiers>", "<envelope_to/><envelope_to></envelope_to><e2 /></identifiers>"),
    "nested_record": sub("</identifiers>", "<x><record><a>1</a></record></x></identifiers>"),
    "mixed_content": sub("<count>", "stray<count>"),
    "mixed_after": sub("</row>", "tail</row>"),
    "text_in_record": sub("<row>", "text<row>"),
    "gt_in_text": sub("<selector>s1", "<selector>a>b"),
    "deep": sub("</row>", "<a>" * 35 + "x" + "</a>" * 35 + "</row>"),
    "deep_ok": sub("</row>", "<a>" * 20 + "x" + "</a>" * 20 + "</row>"),
    "mismatch": sub("</row>", "</rows>"),
    "doctype": sub("<row>", "<row><!DOCTYPE x>"),
    "reason": sub("</policy_evaluated>", "<reason><type>Forwarded</type><comment> Sender requirement failed: 550-5.7.30 </comment></reason></policy_evaluated>"),
    "bare_comment": sub("</policy_evaluated>", "<comment>note</comment></policy_evaluated>"),
    "two_dkim": sub("</auth_results>", "<dkim><domain>Other.Example.</domain><result>FAIL</result><human_result>h</human_result></dkim></auth_results>"),
    "count_plus": sub("<count>", "<count>+"),
    "count_float": lambda r: r.replace("</count>", ".5</count>", 1),
    "count_garbage": lambda r: r.replace("</count>", "x</count>", 1),
    "bad_ip": sub("<source_ip>10", "<source_ip>1000"),
    "newline_in_value": sub("<selector>s1", "<selector>s\n1"),
    "crlf_record": lambda r: r.replace("\n", "\r\n"),
    "tabs": lambda r: r.replace("  ", "\t"),
    "empty_record_self": lambda r: "  <record/>\n",
    "no_source_ip": lambda r: r.replace("<source_ip>", "<x>").replace("</source_ip>", "</x>"),
    "empty_value": sub("<selector>s1", "<selector>"),
    "ws_only_value": sub("<selector>s1", "<selector>  \n "),
    "ws_parent": sub("<row>", "<row>\n\t \r\n"),
    "del_char": sub("<selector>s1", "<selector>s\x7f1"),
    "colon_only_name": sub("</row>", "<:x>1</:x></row>"),
    "name_trailing_colon": sub("</row>", "<x:>1</x:></row>"),
    "long_name": sub("</row>", "<averyveryverylongelementname_abcdefghij>1</averyveryverylongelementname_abcdefghij></row>"),
    "same_len_mismatch": sub("</count>", "</coumt>"),
    "end_record_space": sub("</record>", "</record >"),
    "lt_slash_gt": sub("</row>", "</></row>"),
    "empty_tag": sub("<row>", "<row><>"),
    "question": sub("<row>", "<row><?x"),
    "lost_end_leaf": sub("<selector>s1</selector>", "<selector>s1/selector></selector>"),
    "lost_end_only": sub("<selector>s1</selector>", "<selector>s1/selector>"),
    "angle_address": sub("</identifiers>", "<envelope_to><noreply@x.example></envelope_to></identifiers>"),
    "never_closed": sub("</identifiers>", "<envelope_to>x</identifiers>"),
    "schema_in_record": sub("<row>", "<xs:schema><row>"),
    "reason_text": sub("</policy_evaluated>", "<reason>Forwarded</reason></policy_evaluated>"),
    "ipv6": sub("<source_ip>10.0.0.1<", "<source_ip>2001:DB8::0:1<"),
    "ip_literal": sub("<source_ip>10.0.0.1<", "<source_ip>[IPv6:2001:db8::1]<"),
}

def report(rid, records, ns="", tail="</feedback>\n", crlf=False):
    text = head(ns, rid) + "".join(records) + tail
    if crlf:
        text = text.replace("\n", "\r\n")
    return enc(text)

def enc(text):
    # UTF-8, but for the raw bytes the bad-UTF-8 mutations ask for (0xFF, and 0xC3 before '(').
    out = bytearray()
    for ch in text:
        o = ord(ch)
        if o in (0xff,) or (0x80 <= o < 0x100 and ch in "\xc3\x28"):
            out.append(o)
        else:
            out += ch.encode("utf-8")
    return bytes(out)

n = 0
def write(name, data, gz=False):
    global n
    n += 1
    path = os.path.join(out, f"v{n:03d}-{name}.xml" + (".gz" if gz else ""))
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if gz else data)

# One report per mutation (on its 2nd record), plain and gzipped.
for name, mutate in MUTATIONS.items():
    recs = [record(i) for i in range(3)]
    recs[1] = mutate(recs[1])
    write(name, report(f"m-{name}", recs))
    write(name, report(f"g-{name}", recs), gz=True)

# Namespaced records with a prefix on every element.
recs = "".join(record(i) for i in range(3)).replace("<", "<d:").replace("<d:/", "</d:")
write("prefix_all", enc(head(' xmlns:d="urn:x"', "prefix-all") + recs + "</feedback>\n"))
write("default_ns", enc(head(' xmlns="urn:ietf:params:xml:ns:dmarc-2.0"', "ns2") + record(1) + "</feedback>\n"))
# Truncations.
full = report("trunc", [record(i) for i in range(5)])
for cut in (len(full) // 2, len(full) * 2 // 3, len(full) - 20, len(full) - 12):
    write(f"trunc{cut}", full[:cut])
write("no_feedback_end", report("noend", [record(i) for i in range(3)], tail=""))
write("crlf_all", report("crlf", [record(i) for i in range(3)], crlf=True))
write("one_line", report("oneline", [record(i) for i in range(3)]).replace(b"\n", b"").replace(b"  ", b""))

# Long reports with random mutations: two streamed (over 8 MB, read through windows), one in memory.
keys = list(MUTATIONS)
fatal = {"deep", "mismatch", "doctype", "bad_utf8_tag_region", "same_len_mismatch", "lt_slash_gt", "empty_tag", "question", "end_record_space", "colon_only_name"}
safe = [k for k in keys if k not in fatal]
for label, count, p in (("mixed-big1", 16000, 0.2), ("mixed-big2", 16000, 0.02), ("mixed-small", 3000, 0.3)):
    recs = []
    for i in range(count):
        r = record(i)
        if rng.random() < p:
            r = MUTATIONS[rng.choice(safe)](r)
        recs.append(r)
    data = report(label, recs)
    write(label, data)
    write(label, data.replace(b"<report_id>", b"<report_id>gz-", 1), gz=True)
print(n, "files")
