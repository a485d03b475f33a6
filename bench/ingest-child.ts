// One ingest run in its own process (started with the V8 flags `sesflow ingest` uses, lib/node-flags.mjs), so its time
// and peak memory are its own: prints {seconds, cpuSeconds, maxRssKb, summary}.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ingestNdjson } from '../ingest/ingest-stream';

const [file, lake] = process.argv.slice(2);
const started = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const summary = await ingestNdjson(createReadStream(file!, { highWaterMark: 256 * 1024 }).pipe(createGunzip()), {
  lakeDir: lake!,
  sourceName: 'bench',
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds, maxRssKb: process.resourceUsage().maxRSS, summary })}\n`);
