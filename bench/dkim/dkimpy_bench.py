"""dkimpy verification throughput on the messages `inkan-bench-dkim gen` wrote (one core, keys
served from memory; rates per second of CPU time). Usage: python3 dkimpy_bench.py DIR rsa|ed"""
import json
import os
import sys
import time

import dkim


def main():
    root, alg = sys.argv[1], sys.argv[2]
    with open(os.path.join(root, "keys.json")) as f:
        keys = {k: v.encode() for k, v in json.load(f).items()}
    folder = os.path.join(root, alg)
    messages = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            messages.append(f.read())

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return keys.get(name.rstrip("."))

    wall = time.perf_counter()
    cpu = time.process_time()
    for message in messages:
        if not dkim.verify(message, dnsfunc=dnsfunc):
            sys.exit("dkimpy did not verify a message")
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    n = len(messages)
    print(f"dkimpy verify {alg}\t{n / cpu:.0f} msg/s\t(wall {n / wall:.0f} msg/s)")


if __name__ == "__main__":
    main()
