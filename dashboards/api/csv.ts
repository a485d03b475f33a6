/**
 * CSV export (RFC 4180): comma-separated, CRLF line ends, fields quoted when they hold a comma, a quote, CR or LF,
 * quotes doubled. Text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the start)
 * are prefixed with `'`: mail text is attacker-controlled and an export is opened in Excel.
 */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.map((c) => quoteCsvField(c)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => quoteCsvField(csvCell(row[c]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * A cell a spreadsheet may read as a formula: after any white space (spaces, no-break and ideographic spaces, line
 * ends), one of `= + - @`, or a full-width `＝ ＋ － ＠` (which spreadsheets fold to ASCII), or a tab or CR at all.
 */
const FORMULA_START = /^\s*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\u2212]|^[\t\r]/;

/** The text of one cell: null is empty, times are ISO, numbers as JavaScript prints them. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return FORMULA_START.test(value) ? `'${value}` : value;
  return JSON.stringify(value);
}

export function quoteCsvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
