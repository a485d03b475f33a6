import { z } from 'zod';
import { BadRequestError } from '../errors';

/** Tenant ids as the send API issues them: letters, digits, `.`, `_`, `-`. Anything else is refused, not escaped. */
export const TenantIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'is not a tenant id');
/** SES message ids: hex and dashes (a margin for other forms, no quotes, spaces or semicolons). */
export const MessageIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/, 'is not a message id');
export const ReportNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'is not a report name');
export const ReasonBodySchema = z.object({
  reason: z
    .string()
    .transform((s) => s.trim())
    .pipe(z.string().min(3, 'reason must say why (3 characters or more)').max(500, 'reason is over 500 characters')),
  /** What the tenant may see (the Email API's refusal quotes it); `reason` stays internal. */
  tenantReason: z
    .string()
    .transform((s) => s.trim())
    .pipe(z.string().max(200, 'tenantReason is over 200 characters'))
    .optional(),
});

const DAY_MS = 86_400_000;
/** The longest period a report may cover (a year and a day: leap years). */
export const MAX_RANGE_MS = 367 * DAY_MS;
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 1_000;

const REPORT_QUERY_KEYS = new Set(['from', 'to', 'tenant', 'message_id', 'limit', 'format']);

export interface ReportQuery {
  from: number;
  to: number;
  tenant: string | null;
  messageId: string | undefined;
  limit: number;
  format: 'json' | 'csv';
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** Whether the fields name a real calendar day and time: `2026-02-30` and `24:00` are refused, not rolled over. */
function realDateTime(m: RegExpExecArray): boolean {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return false;
  if (m[4] === undefined) return true;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return false;
  return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
}

/**
 * `YYYY-MM-DD` (midnight UTC) or a full ISO time with `Z` or an offset; anything else, and a day or time that does
 * not exist (`2026-02-30`, `T25:00Z`), is a 400.
 */
export function parseTime(name: string, raw: string): number {
  const m = TIME.exec(raw);
  const ms = m && realDateTime(m) ? Date.parse(m[4] === undefined ? `${raw}T00:00:00Z` : raw) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new BadRequestError(
      m ? `${name} is not a real date or time: ${raw}` : `${name} must be a date (YYYY-MM-DD) or an ISO time`,
    );
  }
  return ms;
}

function single(query: Readonly<Record<string, string | string[]>>, key: string): string | undefined {
  const v = query[key];
  if (Array.isArray(v)) throw new BadRequestError(`${key} is given more than once`);
  return v;
}

/**
 * Validates a report's query string. Unknown or repeated parameters, malformed values and ranges over a year are
 * refused with a one-line reason. Defaults: the 7 days up to the end of the current minute (the same parameters for a
 * minute, so Athena's result reuse and the engines' caches can answer repeated requests), 1,000 rows.
 */
export function parseReportQuery(query: Readonly<Record<string, string | string[]>>, now: Date): ReportQuery {
  for (const key of Object.keys(query)) {
    if (!REPORT_QUERY_KEYS.has(key)) throw new BadRequestError(`unknown parameter "${key.slice(0, 40)}"`);
  }
  const rawTo = single(query, 'to');
  const rawFrom = single(query, 'from');
  const to = rawTo ? parseTime('to', rawTo) : Math.ceil(now.getTime() / 60_000) * 60_000;
  const from = rawFrom ? parseTime('from', rawFrom) : to - 7 * DAY_MS;
  if (from >= to) throw new BadRequestError('from must be before to');
  if (to - from > MAX_RANGE_MS) throw new BadRequestError('the period is over a year: narrow from/to');
  const rawTenant = single(query, 'tenant');
  let tenant: string | null = null;
  if (rawTenant !== undefined && rawTenant !== '') {
    if (!TenantIdSchema.safeParse(rawTenant).success) throw new BadRequestError('tenant is not a tenant id');
    tenant = rawTenant;
  }
  const rawMessage = single(query, 'message_id');
  if (rawMessage !== undefined && !MessageIdSchema.safeParse(rawMessage).success) {
    throw new BadRequestError('message_id is not a message id');
  }
  const rawLimit = single(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (!/^\d{1,6}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_LIMIT) {
      throw new BadRequestError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(rawLimit);
  }
  const rawFormat = single(query, 'format');
  if (rawFormat !== undefined && rawFormat !== 'json' && rawFormat !== 'csv') {
    throw new BadRequestError('format must be json or csv');
  }
  return { from, to, tenant, messageId: rawMessage, limit, format: rawFormat ?? 'json' };
}
