// Baseline of the ingest benchmark: read, gunzip, split into lines and JSON.parse every record. Nothing else.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

const file = process.argv[2];
const started = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let records = 0;
let carry = null;
for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(createGunzip())) {
  const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
  let start = 0;
  let nl = buf.indexOf(10, start);
  while (nl !== -1) {
    if (nl > start) {
      JSON.parse(buf.toString('utf8', start, nl));
      records++;
    }
    start = nl + 1;
    nl = buf.indexOf(10, start);
  }
  carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
}
if (carry) {
  JSON.parse(carry.toString('utf8'));
  records++;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(`${JSON.stringify({ records, seconds, cpuSeconds, maxRssKb: process.resourceUsage().maxRSS })}\n`);
