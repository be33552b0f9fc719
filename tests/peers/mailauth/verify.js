#!/usr/bin/env node
// Runs Node mailauth 4.x's authenticate() over messages, asking DNS only of the server given
// (the testkit DNS server on 127.0.0.1), and prints one JSON line per message with the SPF,
// DKIM and DMARC results: the peer side of inkan's DMARC interop test and verify benchmark.
//
// Usage: node verify.js --dns 127.0.0.1:PORT [--quiet] < manifest.jsonl
// where each manifest line is {"file": PATH, "ip": IP, "helo": HOST, "mail_from": ADDR}.
// With --quiet only a summary line {"messages": N, "seconds": S} is printed.
'use strict';

const fs = require('node:fs');
const readline = require('node:readline');
const { Resolver } = require('node:dns').promises;
const { authenticate } = require('mailauth');

function arg(name) {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
    const server = arg('--dns');
    if (!server) {
        throw new Error('--dns 127.0.0.1:PORT is required: this script never asks public DNS');
    }
    const quiet = process.argv.includes('--quiet');
    const dns = new Resolver({ timeout: 2000, tries: 1 });
    dns.setServers([server]);
    const resolver = (name, rrtype) => dns.resolve(name, rrtype);

    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    const started = process.hrtime.bigint();
    let count = 0;
    for await (const line of lines) {
        if (!line.trim()) {
            continue;
        }
        const item = JSON.parse(line);
        const message = fs.readFileSync(item.file);
        const result = await authenticate(message, {
            ip: item.ip,
            helo: item.helo,
            sender: item.mail_from,
            mta: 'mx.peer.test',
            resolver,
            disableArc: true,
            disableBimi: true,
        });
        count += 1;
        if (quiet) {
            continue;
        }
        const dmarc = result.dmarc || {};
        process.stdout.write(
            JSON.stringify({
                file: item.file,
                spf: result.spf ? result.spf.status.result : null,
                dkim: (result.dkim.results || []).map(r => ({ domain: r.signingDomain, result: r.status.result })),
                dmarc: {
                    result: dmarc.status ? dmarc.status.result : 'none',
                    policy: dmarc.policy || null,
                    p: dmarc.p || null,
                    sp: dmarc.sp || null,
                    domain: dmarc.domain || null,
                },
            }) + '\n'
        );
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (quiet) {
        process.stdout.write(JSON.stringify({ messages: count, seconds }) + '\n');
    }
}

main().catch(err => {
    process.stderr.write(`mailauth peer: ${err.stack || err}\n`);
    process.exit(2);
});
