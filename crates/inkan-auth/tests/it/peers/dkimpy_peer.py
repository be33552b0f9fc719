"""dkimpy as a DKIM peer for inkan's interop tests.

sign SELECTOR DOMAIN KEYFILE ALGORITHM CANON LENGTH  (message on stdin, signed message on stdout)
verify KEYS_JSON                                    (message on stdin; prints pass or fail per signature)
"""
import json
import sys

import dkim


def main():
    mode = sys.argv[1]
    message = sys.stdin.buffer.read()
    if mode == "sign":
        selector, domain, keyfile, algorithm, canon, length = sys.argv[2:8]
        with open(keyfile, "rb") as f:
            key = f.read()
        header, body = canon.split("/")
        signature = dkim.sign(
            message,
            selector.encode(),
            domain.encode(),
            key,
            canonicalize=(header.encode(), body.encode()),
            signature_algorithm=algorithm.encode(),
            length=length == "1",
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        sys.stdout.buffer.write(signature + message)
    elif mode == "verify":
        keys = json.loads(sys.argv[2])

        def dnsfunc(name, timeout=5):
            if isinstance(name, bytes):
                name = name.decode()
            value = keys.get(name.rstrip(".").lower())
            return value.encode() if value else None

        verifier = dkim.DKIM(message)
        count = len([h for h in verifier.headers if h[0].lower() == b"dkim-signature"])
        for idx in range(count):
            print("pass" if verifier.verify(idx=idx, dnsfunc=dnsfunc) else "fail")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
