import pkg from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { NAMED_QUERIES } from '../named-queries';
import { validateParams } from '../run-named-query';
import { athenaLiteral, athenaStatement } from './statement';

const { Parser } = pkg;
const parser = new Parser();

/** Values for every parameter of a query, to render every placeholder. */
function allValues(name: string): Record<string, string> {
  const q = NAMED_QUERIES.get(name)!;
  const raw: Record<string, string> = {};
  for (const p of q.params) {
    if (p.name === 'tenant') continue;
    raw[p.name] = p.type === 'timestamp' ? '2026-05-01T00:00:00Z' : p.type === 'integer' ? '3' : 'x';
  }
  return raw;
}

describe('named queries rendered for Athena (Trino SQL + ExecutionParameters)', () => {
  it('every Trino rendering parses as Trino, with and without values for its parameters', () => {
    for (const q of NAMED_QUERIES.values()) {
      for (const raw of [allValues(q.name), q.params.some((p) => p.required) ? { message_id: 'm' } : {}]) {
        const values = validateParams(q, raw, { tenant: 'acme' });
        const { sql } = athenaStatement(q, values);
        expect(() => parser.astify(sql, { database: 'trino' }), `${q.name}\n${sql}`).not.toThrow();
      }
    }
  });

  it('has one parameter per placeholder, each a literal: strings quoted with quotes doubled, numbers bare', () => {
    for (const q of NAMED_QUERIES.values()) {
      const values = validateParams(q, allValues(q.name), { tenant: "o'hara" });
      const st = athenaStatement(q, values);
      expect(st.parameters.length, q.name).toBe(st.sql.split('?').length - 1);
      expect(st.parameters.length, q.name).toBeLessThanOrEqual(25);
      for (const p of st.parameters) expect(p, q.name).toMatch(/^(?:'(?:[^']|'')*'|-?\d+)$/);
      expect(st.parameters).toContain("'o''hara'");
    }
    expect(athenaLiteral("x'); DROP TABLE events; --", 'string')).toBe("'x''); DROP TABLE events; --'");
    expect(athenaLiteral(5, 'integer')).toBe('5');
    expect(() => athenaLiteral(Number.NaN, 'integer')).toThrow();
  });

  it('writes a typed NULL for an absent value instead of sending one, and never a value into the SQL', () => {
    const q = NAMED_QUERIES.get('tenant-summary')!;
    const none = athenaStatement(q, validateParams(q, {}));
    expect(none.parameters).toEqual([]);
    expect(none.sql).toContain('(CAST(NULL AS VARCHAR) IS NULL OR tenant_id = CAST(NULL AS VARCHAR))');
    const scoped = athenaStatement(q, validateParams(q, { from: '2026-05-01' }, { tenant: 'zeta' }));
    expect(scoped.parameters).toEqual([
      "'zeta'",
      "'zeta'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
      "'2026-05-01 00:00:00.000'",
    ]);
    expect(scoped.sql).not.toContain('zeta');
    expect(scoped.sql).not.toContain('2026-05-01');
  });

  it('every rollup rendering parses as Trino, has at most 25 parameters with every value set, and prunes by dt', () => {
    const wholeDays = { from: '2026-05-02', to: '2026-05-04' };
    const rollups = [...NAMED_QUERIES.values()].filter((q) => q.rollup);
    expect(rollups).toHaveLength(7);
    for (const q of rollups) {
      for (const scope of [{ tenant: 'acme', wholeDays }, { tenant: null }]) {
        const values = validateParams(q.rollup!, { ...allValues(q.name), to: '2026-05-05T12:00:00Z' }, scope);
        const st = athenaStatement(q.rollup!, values);
        expect(() => parser.astify(st.sql, { database: 'trino' }), `${q.name}\n${st.sql}`).not.toThrow();
        expect(st.parameters.length, q.name).toBe(st.sql.split('?').length - 1);
        expect(st.parameters.length, q.name).toBeLessThanOrEqual(25);
      }
      const text = q.rollup!.text('trino');
      // The rollup rows of the whole days only, and the edge rows outside them, both by the partition column.
      expect(text, q.name).toContain('dt >= :day_from AND dt < :day_to');
      expect(text, q.name).toContain('(:day_from IS NULL OR dt < :day_from OR dt >= :day_to)');
      expect(text, q.name).toContain('dt >= substr(:from, 1, 10)');
      expect(q.rollup!.text('duckdb'), q.name).not.toContain('substr(:from');
    }
  });

  it('filters the partition column dt with the time range on Athena only (partition projection prunes the days)', () => {
    const q = NAMED_QUERIES.get('daily-timeseries')!;
    expect(q.text('trino')).toContain('dt >= substr(:from, 1, 10)');
    expect(q.text('trino')).toContain('dt <= substr(:to, 1, 10)');
    expect(q.text('duckdb')).not.toContain('dt >=');
  });
});
