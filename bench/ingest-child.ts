// One ingest run in its own process (started with the V8 flags `sesflow ingest` uses, bin/node-flags.mjs), so its time
// and peak memory are its own: prints {seconds, maxRssKb, summary}.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ingestNdjson } from '../ingest/ingest-stream';

const [file, lake] = process.argv.slice(2);
const started = process.hrtime.bigint();
const summary = await ingestNdjson(createReadStream(file!, { highWaterMark: 256 * 1024 }).pipe(createGunzip()), {
  lakeDir: lake!,
  sourceName: 'bench',
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS, summary })}\n`);
