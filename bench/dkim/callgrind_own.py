"""Sums a callgrind profile's self cost per function and prints it per message: crypto (aws-lc)
in one line, then inkan's own functions and the C library's, largest first.
   python3 callgrind_own.py CALLGRIND_OUT MESSAGES [TOP]"""
import collections
import re
import subprocess
import sys

CRYPTO = re.compile(
    r"aws_lc|sha256_|sha1_|bn_|BN_|rsa|RSA|25519|fiat|OPENSSL|EVP|CRYPTO|bignum", re.I
)


def main():
    path, messages = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True, check=True
    ).stdout
    own = collections.Counter()
    crypto = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S+?:(.+?)(?: \[.*\])?$", line)
        if not m or m.group(2).startswith("PROGRAM"):
            continue
        count = int(m.group(1).replace(",", ""))
        if CRYPTO.search(m.group(2)):
            crypto += count
        else:
            own[m.group(2)] += count
    print(f"per message: inkan and libc {sum(own.values()) / messages:,.0f} instructions, "
          f"crypto {crypto / messages:,.0f} (valgrind's code paths)")
    for name, count in own.most_common(top):
        print(f"{count / messages:10,.0f}  {name[:110]}")


main()
