"""dkimpy as a DKIM peer for inkan's interop tests.

sign SELECTOR DOMAIN KEYFILE ALGORITHM CANON LENGTH  (message on stdin, signed message on stdout)
verify KEYS_JSON                                    (message on stdin; prints pass or fail per signature)
sign-many KEYS_DIR   (stdin: a JSON list of {"message", "selector", "algorithm", "canon", "length",
                      "headers"}, messages as Latin-1 text; stdout: the signed messages, likewise)
verify-many KEYS_JSON  (stdin: a JSON list of messages as Latin-1 text; stdout: a JSON list of
                        true or false, whether the first signature of each verifies)
"""
import json
import sys

import dkim


def key_lookup(keys):
    """dkimpy's dnsfunc over a map from key names to TXT values."""

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        value = keys.get(name.rstrip(".").lower())
        return value.encode() if value else None

    return dnsfunc


def main():
    mode = sys.argv[1]
    message = sys.stdin.buffer.read()
    if mode == "sign-many":
        keys_dir = sys.argv[2]
        out = []
        for job in json.loads(message):
            keyfile = "ed.seed" if job["algorithm"] == "ed25519-sha256" else "rsa.pem"
            with open(f"{keys_dir}/{keyfile}", "rb") as f:
                key = f.read()
            header, body = job["canon"].split("/")
            signed = job["message"].encode("latin-1")
            signature = dkim.sign(
                signed,
                job["selector"].encode(),
                b"example.com",
                key,
                canonicalize=(header.encode(), body.encode()),
                signature_algorithm=job["algorithm"].encode(),
                length=job["length"],
                include_headers=[h.encode() for h in job["headers"]],
            )
            out.append((signature + signed).decode("latin-1"))
        json.dump(out, sys.stdout)
    elif mode == "verify-many":
        dnsfunc = key_lookup(json.loads(sys.argv[2]))
        json.dump(
            [
                dkim.DKIM(m.encode("latin-1")).verify(idx=0, dnsfunc=dnsfunc)
                for m in json.loads(message)
            ],
            sys.stdout,
        )
    elif mode == "sign":
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
        dnsfunc = key_lookup(json.loads(sys.argv[2]))
        verifier = dkim.DKIM(message)
        count = len([h for h in verifier.headers if h[0].lower() == b"dkim-signature"])
        for idx in range(count):
            print("pass" if verifier.verify(idx=idx, dnsfunc=dnsfunc) else "fail")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
