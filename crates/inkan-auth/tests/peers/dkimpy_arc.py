#!/usr/bin/env python3
"""dkimpy's ARC implementation as an interop peer for inkan's tests.

  dkimpy_arc.py seal   --keys KEYS.json --domain D --selector S --key KEYFILE
                       --algorithm rsa-sha256|ed25519-sha256 --srv-id ID --timestamp T  < msg > sealed
  dkimpy_arc.py verify --keys KEYS.json  < msg   -> {"cv": "...", "reason": "...", "instances": [...]}

KEYS.json maps key names (selector._domainkey.domain) to TXT values; dkimpy gets them through its
dnsfunc argument, so nothing touches the network. `seal` first validates the chain it received
with dkim.arc_verify (as a receiving hop does), records the result as arc= in an
Authentication-Results field for its srv-id, and lets dkim.arc_sign build the next set from it.
The printed message is the new set on top of the message as received.
"""
import argparse
import json
import sys

try:
    import dkim
    import authres  # noqa: F401  (dkim.arc_sign needs it)
    import nacl  # noqa: F401  (ed25519)
except ImportError as e:
    sys.stderr.write("missing python module %s: run .ci/setup\n" % e.name)
    sys.exit(3)


def dnsfunc_for(path):
    with open(path) as f:
        keys = {k.lower().rstrip("."): v for k, v in json.load(f).items()}

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        value = keys.get(name.lower().rstrip("."))
        return value.encode() if value is not None else None

    return dnsfunc


def cv_token(cv):
    if cv is None:
        return "fail"
    return cv.decode() if isinstance(cv, bytes) else str(cv)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["seal", "verify"])
    p.add_argument("--keys", required=True)
    p.add_argument("--domain")
    p.add_argument("--selector")
    p.add_argument("--key")
    p.add_argument("--algorithm", default="rsa-sha256")
    p.add_argument("--srv-id")
    p.add_argument("--timestamp", type=int)
    args = p.parse_args()
    message = sys.stdin.buffer.read()
    dnsfunc = dnsfunc_for(args.keys)
    cv, results, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
    if args.mode == "verify":
        out = {
            "cv": cv_token(cv),
            "reason": reason,
            "instances": [
                {
                    "instance": r.get("instance"),
                    "ams_valid": bool(r.get("ams-valid")),
                    "as_valid": bool(r.get("as-valid")),
                    "cv": cv_token(r.get("cv")),
                }
                for r in results
            ],
        }
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    with open(args.key, "rb") as f:
        privkey = f.read().strip()
    ar = "Authentication-Results: %s; spf=pass smtp.mailfrom=origin.example; arc=%s\r\n" % (
        args.srv_id,
        cv_token(cv),
    )
    stamped = ar.encode() + message
    fields = dkim.arc_sign(
        stamped,
        args.selector.encode(),
        args.domain.encode(),
        privkey,
        args.srv_id.encode(),
        signature_algorithm=args.algorithm.encode(),
        timestamp=args.timestamp,
    )
    if not fields:
        sys.stderr.write("dkim.arc_sign added no set\n")
        return 1
    sys.stdout.buffer.write(b"".join(fields) + message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
