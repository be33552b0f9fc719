// Node mailauth@4 verification throughput on the messages `inkan-bench-dkim gen` wrote (one
// core, keys served from memory; rates per second of the process's CPU time).
// Usage: NODE_PATH=tests/peers/mailauth/node_modules node mailauth_bench.js DIR rsa|ed
'use strict';
const fs = require('fs');
const path = require('path');
const { dkimVerify } = require('mailauth/lib/dkim/verify');

async function main() {
    const [root, alg] = process.argv.slice(2);
    const keys = JSON.parse(fs.readFileSync(path.join(root, 'keys.json'), 'utf8'));
    const folder = path.join(root, alg);
    const messages = fs.readdirSync(folder).sort().map(name => fs.readFileSync(path.join(folder, name)));
    const resolver = async (name, type) => {
        const value = keys[name.replace(/\.$/, '')];
        if (type !== 'TXT' || !value) {
            const err = new Error('not found');
            err.code = 'ENOTFOUND';
            throw err;
        }
        return [[value]];
    };
    const options = { resolver, curTime: new Date(1795000000 * 1000) };
    for (const m of messages.slice(0, 50)) {
        await dkimVerify(m, options);
    }
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (const m of messages) {
        const result = await dkimVerify(m, options);
        if (result.results[0].status.result !== 'pass') {
            throw new Error('mailauth did not verify: ' + JSON.stringify(result.results[0].status));
        }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const n = messages.length;
    console.log(`mailauth verify ${alg}\t${Math.round(n / cpuSeconds)} msg/s\t(wall ${Math.round(n / seconds)} msg/s)`);
}

main().catch(err => {
    console.error(err);
    process.exit(1);
});
