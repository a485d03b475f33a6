import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from '../ingest/lake-schema';
import { addressForms } from './request';

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Lake columns that are text and may carry an address besides `recipient` (a diagnostic code, a link, the tags). */
export const TEXT_COLUMNS: readonly string[] = LAKE_COLUMNS.filter(
  (c) => LAKE_COLUMN_TYPES[c] === 'string' && !['event_id', 'recipient', 'event_type', 'tenant_id'].includes(c),
);

/** Columns that describe the recipient's device and network (an IP address is personal data): emptied on its rows. */
export const DEVICE_COLUMNS: readonly string[] = ['ip', 'user_agent'];

/**
 * The SQL condition of a row of the erased address (its recipient, any case), optionally of one tenant. Plain SQL
 * that DuckDB and Athena (Trino) both run; the address is a literal, never a bound parameter of a LIKE pattern, so
 * `_` and `%` in an address mean themselves.
 */
export function recipientRowSql(address: string, tenant?: string, qualifier = ''): string {
  const own = `lower(${qualifier}recipient) = ${sqlString(address.toLowerCase())}`;
  return tenant ? `(${own} AND ${qualifier}tenant_id = ${sqlString(tenant)})` : own;
}

/** The SQL condition of a row that holds the address anywhere: its recipient, or any text column in any form. */
export function rowHoldsAddressSql(
  address: string,
  tenant?: string,
  columns: readonly string[] = TEXT_COLUMNS,
): string {
  const text = columns.flatMap((c) => addressForms(address).map((f) => `strpos(lower(${c}), ${sqlString(f)}) > 0`));
  const any = `(lower(recipient) = ${sqlString(address.toLowerCase())} OR ${text.join(' OR ')})`;
  return tenant ? `(${any} AND tenant_id = ${sqlString(tenant)})` : any;
}

/** An RE2 pattern (DuckDB's regexp_replace) for every form of the address, any case. */
export function addressRegexSql(address: string): string {
  const alternatives = addressForms(address).map((f) => f.replace(/[^A-Za-z0-9]/g, '\\$&'));
  return sqlString(`(?i)(?:${alternatives.join('|')})`);
}

export { sqlString };
