import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ErasureAudit, ErasureReport } from './ports';

/** The erasure reports, one JSON line each, appended to a file (the local stack's `<data dir>/erasure-audit.ndjson`). */
export class FileErasureAudit implements ErasureAudit {
  constructor(private readonly file: string) {}

  async record(report: ErasureReport): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const { stores, ...rest } = report;
    // The item lists are left out: the audit says what was done, not which files (they name no address either).
    appendFileSync(this.file, `${JSON.stringify({ ...rest, stores: stores.map(({ items: _i, ...s }) => s) })}\n`);
  }
}

/** Several audits, each written. */
export function allAudits(...audits: ErasureAudit[]): ErasureAudit {
  return { record: async (r) => void (await Promise.all(audits.map((a) => a.record(r)))) };
}
