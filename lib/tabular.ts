/** Output of rows as JSON, CSV or an aligned text table: what `sesflow query` and the reports print. */
export type Row = Record<string, string | number | boolean | null>;

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so a spreadsheet never runs data as a formula. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(rows: readonly Row[], columns = rows[0] ? Object.keys(rows[0]) : []): string {
  const lines = [columns.map((c) => csvCell(c)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function show(value: string | number | boolean | null, column: string): string {
  if (value === null) return '';
  if (typeof value === 'number' && /rate$/.test(column)) return `${(value * 100).toFixed(2)} %`;
  if (typeof value === 'number') return value.toLocaleString('en-US');
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

export function toTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) => columns.map((c) => show(r[c] ?? null, c)));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => row[i]!.length))));
  const numeric = columns.map((c) => rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => {
        const cut = v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v;
        return numeric[i] ? cut.padStart(widths[i]!) : cut.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return `${[fmt(columns), fmt(widths.map((w) => '-'.repeat(w))), ...cells.map(fmt)].join('\n')}\n`;
}
