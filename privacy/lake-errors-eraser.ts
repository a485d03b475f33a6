import { LAKE_PREFIX } from '../ingest/lake-schema';
import type { LakeStore } from '../ingest/lake-store';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';
import { holdsAddress, scrubText } from './request';

/** The raw bytes as text: UTF-8 when they are valid UTF-8, else Latin-1 (byte for byte), so they go back unchanged. */
function bytesAsText(bytes: Buffer): { text: string; encoding: BufferEncoding } {
  const utf8 = bytes.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(bytes)
    ? { text: utf8, encoding: 'utf8' }
    : { text: bytes.toString('latin1'), encoding: 'latin1' };
}

/**
 * One line of an error file with the address replaced: the record's raw data (base64 of what SES sent, which the
 * error prefix keeps so it can be replayed) is decoded, scrubbed and encoded again; its reason and source too. A line
 * that is not an error record is scrubbed as text. Null when the line does not hold the address.
 */
export function scrubErrorLine(line: string, address: string, replacement: string): string | null {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    record = parsed as Record<string, unknown>;
  } catch {
    return holdsAddress(line, address) ? scrubText(line, address, replacement) : null;
  }
  let held = false;
  const out: Record<string, unknown> = { ...record };
  for (const [k, v] of Object.entries(record)) {
    if (typeof v !== 'string') continue;
    if (k === 'rawData') {
      const raw = bytesAsText(Buffer.from(v, 'base64'));
      if (holdsAddress(raw.text, address)) {
        held = true;
        out[k] = Buffer.from(scrubText(raw.text, address, replacement), raw.encoding).toString('base64');
      }
    } else if (holdsAddress(v, address)) {
      held = true;
      out[k] = scrubText(v, address, replacement);
    }
  }
  return held ? JSON.stringify(out) : null;
}

/**
 * The error prefix (`errors/<type>/dt=…/`): records the transform refused, kept whole for replay. They have no
 * reliable tenant, so a request for one tenant scrubs them all the same (an error record counts toward nothing).
 * Each file holding the address is written again under its own key (atomically, like every lake write) with the
 * address replaced by its text pseudonym in the raw record; the rest of the record is kept, so it can still be read
 * and replayed.
 */
export class LakeErrorsEraser implements ErasureTarget {
  readonly store = 'lake error records';

  constructor(private readonly lake: LakeStore) {}

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const { address } = ctx.request;
    const replacement = ctx.pseudonyms.text(address);
    let found = 0;
    let changed = 0;
    const items: string[] = [];
    for (const key of await this.lake.list(LAKE_PREFIX.errors)) {
      const text = Buffer.from(await this.lake.get(key)).toString('utf8');
      let held = 0;
      const lines = text.split('\n').map((line) => {
        if (line === '') return line;
        const scrubbed = scrubErrorLine(line, address, replacement);
        if (scrubbed === null) return line;
        held++;
        return scrubbed;
      });
      if (held === 0) continue;
      found += held;
      items.push(`${key} (${held} records)`);
      if (!ctx.dryRun) {
        await this.lake.put(key, lines.join('\n'));
        changed++;
      }
    }
    return {
      store: this.store,
      found,
      changed,
      action:
        found === 0
          ? 'nothing holds the address'
          : `${ctx.dryRun ? 'would replace' : 'replaced'} the address in ${found} raw records of ${items.length} files by its pseudonym`,
      items,
    };
  }
}
