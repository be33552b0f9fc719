#!/usr/bin/env node
// Writes N realistic messages for the verify benchmark: 200 sender domains, each with SPF, a
// DMARC record (a mix of none/quarantine/reject, some strict) and an RSA-2048 DKIM key; most
// messages signed by their From domain, some by an ESP's domain only, some unsigned, a few with
// bulk headers. Signed with mailauth's dkimSign. Output: WORK/msgs/NNNNN.eml, WORK/bench.zone,
// WORK/manifest.jsonl (one line per message with the envelope, for mailauth).
//
// usage: node bench/verify/gen.js N WORK
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { dkimSign } = require(path.join(__dirname, '../../tests/peers/mailauth/node_modules/mailauth'));

const N = parseInt(process.argv[2] || '10000', 10);
const WORK = process.argv[3] || '/tmp/inkan-bench-verify';
const DOMAINS = 200;

function txt(value) {
    const parts = [];
    for (let i = 0; i < value.length; i += 255) {
        parts.push(`"${value.slice(i, i + 255)}"`);
    }
    return parts.join(' ');
}

async function main() {
    fs.mkdirSync(path.join(WORK, 'msgs'), { recursive: true });
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const key = `v=DKIM1; k=rsa; p=${der}`;

    const zone = ['$ORIGIN test.', '$TTL 3600'];
    zone.push(`esp IN TXT "v=spf1 ip4:192.0.2.0/24 -all"`);
    zone.push(`s1._domainkey.esp IN TXT ${txt(key)}`);
    const policies = ['none', 'quarantine', 'reject'];
    for (let d = 0; d < DOMAINS; d++) {
        const name = `sender${d}`;
        const strict = d % 10 === 0 ? '; adkim=s; aspf=s' : '';
        zone.push(`${name} IN TXT "v=spf1 include:esp.test -all"`);
        zone.push(`_dmarc.${name} IN TXT "v=DMARC1; p=${policies[d % 3]}${strict}; rua=mailto:dmarc@${name}.test"`);
        zone.push(`s1._domainkey.${name} IN TXT ${txt(key)}`);
    }
    fs.writeFileSync(path.join(WORK, 'bench.zone'), zone.join('\n') + '\n');

    const manifest = [];
    const body = 'Hello,\r\n\r\nThis is message number {i} of the benchmark, with a few lines of text\r\n' +
        'so that body hashing has something to do.\r\n\r\n'.repeat(8) +
        'Unsubscribe: https://esp.test/u/{i}\r\n';
    for (let i = 0; i < N; i++) {
        const d = `sender${i % DOMAINS}.test`;
        const bulk = i % 4 === 0
            ? `List-Unsubscribe: <https://esp.test/u/${i}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n`
            : '';
        const unsigned =
            `From: Sender ${i} <news@${d}>\r\nTo: user${i}@example.net\r\nSubject: Message ${i}\r\n` +
            `Date: Tue, 01 Jul 2025 10:00:00 +0000\r\nMessage-ID: <${i}.bench@${d}>\r\n` +
            `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n${bulk}\r\n` +
            body.replaceAll('{i}', String(i));
        let signatures = '';
        const kind = i % 10;
        if (kind < 7) {
            signatures = (await dkimSign(unsigned, { signatureData: [{ signingDomain: d, selector: 's1', privateKey: pem }] })).signatures;
        } else if (kind < 9) {
            signatures = (await dkimSign(unsigned, { signatureData: [{ signingDomain: 'esp.test', selector: 's1', privateKey: pem }] })).signatures;
        }
        const file = path.join(WORK, 'msgs', `${String(i).padStart(5, '0')}.eml`);
        fs.writeFileSync(file, signatures + unsigned);
        manifest.push(JSON.stringify({ file, ip: '192.0.2.7', helo: 'mta.esp.test', mail_from: 'bounce@esp.test' }));
    }
    fs.writeFileSync(path.join(WORK, 'manifest.jsonl'), manifest.join('\n') + '\n');
}

main().catch(err => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
});
