import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import { parseConfigSetTenants, readIngestConfig } from '../../ingest/config';
import { type IngestSummary, ingestNdjson } from '../../ingest/ingest-stream';
import { UsageError } from '../../lib/errors';
import { formatProgressBar } from '../../local/ndjson-output';

export const DEFAULT_LAKE = './.sesflow/lake';

/** Counts the bytes that pass, for the progress bar (compressed bytes for a .gz input). */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Opens the input (a file or stdin), gunzipping it when it starts with the gzip magic bytes (whatever its name).
 * Returns the byte stream and a counter of the raw bytes read.
 */
async function openInput(file: string): Promise<{ stream: Readable; counter: ByteCounter; total: number | undefined }> {
  let raw: Readable;
  let total: number | undefined;
  if (file === '-') {
    raw = process.stdin;
  } else {
    if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`not a file: ${file}`);
    total = st.size;
    raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  }
  const counter = new ByteCounter();
  const counted = raw.pipe(counter);
  // Peek at the first bytes to choose between plain and gzip.
  const first: Buffer | null = await new Promise((resolve, reject) => {
    const onReadable = () => {
      cleanup();
      resolve(counted.read() as Buffer | null);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      counted.off('readable', onReadable);
      counted.off('end', onEnd);
      counted.off('error', onError);
    };
    counted.once('readable', onReadable);
    counted.once('end', onEnd);
    counted.once('error', onError);
  });
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  if (first === null) {
    out.end();
    return { stream: out, counter, total };
  }
  const gzipped = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const target: NodeJS.WritableStream = gzipped ? createGunzip() : out;
  if (gzipped) (target as unknown as Readable).pipe(out);
  target.write(first);
  counted.pipe(target);
  const fail = (err: Error) => out.destroy(new UsageError(`cannot read ${file}: ${err.message.split('\n')[0]}`));
  counted.on('error', fail);
  if (gzipped) (target as unknown as Readable).on('error', fail);
  return { stream: out, counter, total };
}

function formatSummary(s: IngestSummary, lake: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `records ${n(s.records)}: ${n(s.ok)} ok, ${n(s.failed)} failed`,
    `rows written ${n(s.rows)}, duplicates skipped ${n(s.duplicates)}`,
    s.failed > 0 ? `failed records are under ${lake}/errors/<reason>/ with their reason and original bytes` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'run raw SES event records (NDJSON, one record a line, plain or gzip) through the transform into a lake',
    )
    .argument('<file>', 'input file, or - for standard input')
    .option('--lake <dir>', 'lake directory', DEFAULT_LAKE)
    .option('--format <format>', 'summary format: text or json', 'text')
    .option('--tenant-map <file>', 'JSON object of configuration set -> tenant, for records without a tenant tag')
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')
    .addHelpText(
      'after',
      `
Every record lands somewhere: rows under <lake>/events/dt=YYYY-MM-DD/hour=HH/ (by event time), failures under
<lake>/errors/<reason>/dt=YYYY-MM-DD/ with their reason. Ingesting the same records again writes nothing twice.
Each hour gets one file per run whatever the order of the input: past 30,000 rows in memory, rows are kept in a spill
file <lake>/.spill-<id> (removed at the end) until their hour is written.
The exit code is non-zero only when the command could not run (missing file, unwritable lake).

Example:
  sesflow ingest events.ndjson.gz --lake ./lake --format json
  {"records":1200,"ok":1198,"failed":2,"rows":1650,"duplicates":0}`,
    )
    .action(async (file: string, opts: { lake: string; format: string; tenantMap?: string; progress: boolean }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError('--format must be text or json');
      let configSetTenants = readIngestConfig().configSetTenants;
      if (opts.tenantMap) {
        if (!existsSync(opts.tenantMap)) throw new UsageError(`no such file: ${opts.tenantMap}`);
        configSetTenants = parseConfigSetTenants(readFileSync(opts.tenantMap, 'utf8'), opts.tenantMap);
      }
      try {
        await mkdir(opts.lake, { recursive: true });
      } catch (err) {
        throw new UsageError(`cannot create the lake directory ${opts.lake}: ${(err as Error).message}`);
      }
      const { stream, counter, total } = await openInput(file);
      const showBar = opts.progress && process.stderr.isTTY === true;
      const started = Date.now();
      let lastDraw = 0;
      const summary = await ingestNdjson(stream, {
        lakeDir: opts.lake,
        sourceName: file === '-' ? 'stdin' : file,
        normalise: { configSetTenants },
        onProgress: (records) => {
          if (!showBar) return;
          const now = Date.now();
          if (now - lastDraw < 200) return;
          lastDraw = now;
          const rate = Math.round(records / Math.max(0.001, (now - started) / 1000));
          const suffix = `${records.toLocaleString('en-US')} records, ${rate.toLocaleString('en-US')}/s`;
          process.stderr.write(`\r${formatProgressBar(counter.bytes, total ?? 0, suffix)}`);
        },
      });
      if (showBar) process.stderr.write('\n');
      process.stdout.write(`${opts.format === 'json' ? JSON.stringify(summary) : formatSummary(summary, opts.lake)}\n`);
    });
}
