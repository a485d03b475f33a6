/**
 * Named placeholders for the named queries: a definition writes `:tenant`, `:from`…, and each engine gets positional
 * `?` placeholders with the values in the order they appear (DuckDB prepared statements, Athena ExecutionParameters).
 * Values are never written into the SQL text.
 */

/** The two SQL engines a named query runs on: DuckDB locally, Athena (Trino SQL) in AWS. */
export type Dialect = 'duckdb' | 'trino';
export const DIALECTS: readonly Dialect[] = ['duckdb', 'trino'];

export interface CompiledSql {
  /** SQL with one `?` per placeholder occurrence. */
  sql: string;
  /** The parameter name of each `?`, in order (a name used three times appears three times). */
  names: string[];
}

/**
 * Replaces every `:name` (lower-case letters, digits, `_`) outside string literals, quoted identifiers and comments
 * with `?`. A `::` (a DuckDB cast) is left alone. `replace` may return other text for a placeholder (see
 * {@link compileNamed}'s use by the Athena rendering, which writes a typed NULL for an absent value).
 */
export function compileNamed(text: string, replace?: (name: string) => string | null): CompiledSql {
  const names: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      // A literal or quoted identifier; a doubled quote inside it is an escaped quote.
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === c) {
          if (text[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const j = end === -1 ? text.length : end;
      out += text.slice(i, j);
      i = j;
      continue;
    }
    if (c === ':' && text[i + 1] === ':') {
      out += '::';
      i += 2;
      continue;
    }
    if (c === ':') {
      const m = /^[a-z_][a-z0-9_]*/.exec(text.slice(i + 1));
      if (m) {
        const name = m[0];
        const replaced = replace?.(name) ?? null;
        if (replaced === null) {
          names.push(name);
          out += '?';
        } else out += replaced;
        i += 1 + name.length;
        continue;
      }
    }
    out += c;
    i++;
  }
  return { sql: out, names };
}
