import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createGunzip, createGzip } from 'node:zlib';
import { SeededRandom } from '../local/seeded-random';

/** Buckets of the two-pass shuffle: each holds about 1/BUCKETS of the input in memory at once. */
const BUCKETS = 16;

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
}

/**
 * The records of an NDJSON.gz file in random order (seeded), as a backfill of an exported bucket arrives: cached beside
 * it as `<name>.shuffled.ndjson.gz`. Two passes, so memory stays at about a sixteenth of the input: every line goes to
 * a random bucket file, then each bucket is shuffled in memory and appended.
 */
export async function ensureShuffledRecords(input: string): Promise<string> {
  const file = input.replace(/\.ndjson\.gz$/, '.shuffled.ndjson.gz');
  if (existsSync(file)) return file;
  const rng = new SeededRandom(17);
  const bucketFiles = Array.from({ length: BUCKETS }, (_, i) => `${file}.bucket${i}`);
  const buckets = bucketFiles.map((f) => createWriteStream(f));
  let carry = '';
  for await (const chunk of createReadStream(input).pipe(createGunzip())) {
    const lines = (carry + (chunk as Buffer).toString('utf8')).split('\n');
    carry = lines.pop()!;
    for (const line of lines) if (line) await write(buckets[rng.int(BUCKETS)]!, `${line}\n`);
  }
  if (carry) await write(buckets[rng.int(BUCKETS)]!, `${carry}\n`);
  await Promise.all(buckets.map((b) => new Promise<void>((r) => b.end(() => r()))));
  const tmp = `${file}.tmp`;
  const gz = createGzip({ level: 6 });
  const out = createWriteStream(tmp);
  gz.pipe(out);
  for (const f of bucketFiles) {
    const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
    for (let i = lines.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    for (const line of lines) await write(gz, `${line}\n`);
    rmSync(f);
  }
  gz.end();
  await new Promise<void>((r) => out.once('close', () => r()));
  renameSync(tmp, file);
  return file;
}
