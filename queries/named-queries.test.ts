import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defineNamedQuery, METRIC_COLUMNS, NAMED_QUERIES, oneTenant, SCOPE_PARAMS } from './named-queries';
import { DIALECTS } from './sql/placeholders';

const doc = readFileSync(new URL('../docs/queries.md', import.meta.url), 'utf8');

/** The Reference section of one query in docs/queries.md. */
function section(name: string): string {
  const start = doc.indexOf(`\n### ${name}\n`);
  if (start < 0) return '';
  const end = doc.indexOf('\n### ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('the named-query registry', () => {
  it("one tenant's DuckDB rendering scopes every table by a plain equality, bound, never spliced", () => {
    for (const q of NAMED_QUERIES.values()) {
      for (const r of q.rollup ? [q, q.rollup] : [q]) {
        const one = oneTenant(r);
        expect(one.sql, r.name).not.toContain('IS NULL OR tenant_id');
        expect(one.sql, r.name).toContain('tenant_id = ?');
        const values = { tenant: 'acme', from: null, to: null, day_from: '2026-01-01', day_to: '2026-01-02' };
        expect(one.bind(values).filter((v) => v === 'acme').length, r.name).toBe(
          one.sql.split('tenant_id = ?').length - 1,
        );
        expect(oneTenant(r)).toBe(one);
      }
    }
  });

  it('every query filters by the server scope in every dialect and declares every placeholder it uses', () => {
    for (const q of NAMED_QUERIES.values()) {
      for (const s of SCOPE_PARAMS)
        expect(
          q.params.map((p) => p.name),
          q.name,
        ).toContain(s.name);
      for (const d of DIALECTS) {
        expect(q.text(d), `${q.name} ${d}`).toContain('(:tenant IS NULL OR tenant_id = :tenant)');
        if (q.rollup)
          expect(q.rollup.text(d), `${q.name} rollup ${d}`).toContain('(:tenant IS NULL OR tenant_id = :tenant)');
      }
    }
    expect(() =>
      defineNamedQuery({ name: 'x', description: 'x', params: [], columns: [], text: () => 'SELECT :undeclared' }),
    ).toThrow(/uses :undeclared/);
  });

  it('docs/queries.md documents every query, its parameters and its columns', () => {
    for (const q of NAMED_QUERIES.values()) {
      const s = section(q.name);
      expect(s, q.name).not.toBe('');
      expect(doc, q.name).toContain(`| \`${q.name}\` |`);
      for (const p of q.params) expect(s, `${q.name} ${p.name}`).toContain(`\`${p.name}\``);
      const metric = q.columns.some((c) => c.name === 'click_rate');
      for (const c of q.columns) {
        const inMetrics = metric && METRIC_COLUMNS.some((m) => m.name === c.name);
        expect(inMetrics ? section('Metric columns') : s, `${q.name} ${c.name}`).toContain(`| \`${c.name}\` |`);
      }
    }
  });
});
