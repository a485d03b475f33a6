import { describe, expect, it } from 'vitest';
import { TENANT_ROW_GROUP_ROWS, tenantRowGroups } from './compact-layout';

describe('tenantRowGroups', () => {
  it('packs consecutive small tenants up to the group size and gives a large tenant a run of its own', () => {
    expect(
      tenantRowGroups(
        [
          { tenant: 'a', rows: 1000 },
          { tenant: 'b', rows: 1000 },
          { tenant: 'c', rows: 49 },
          { tenant: 'd', rows: 1 },
          { tenant: 'e', rows: 5000 },
          { tenant: 'f', rows: 10 },
          { tenant: null, rows: 3 },
        ],
        2048,
      ),
    ).toEqual([
      { first: 'a', last: 'b', rows: 2000 },
      { first: 'c', last: 'd', rows: 50 },
      { first: 'e', last: 'e', rows: 5000 },
      { first: 'f', last: 'f', rows: 10 },
      { first: null, last: null, rows: 3 },
    ]);
  });

  it('keeps every row once and in order, whatever the sizes', () => {
    const tenants = Array.from({ length: 300 }, (_, i) => ({
      tenant: `t${String(i).padStart(3, '0')}`,
      rows: (i * 7919) % 3000,
    }));
    const groups = tenantRowGroups(tenants);
    expect(groups.reduce((n, g) => n + g.rows, 0)).toBe(tenants.reduce((n, t) => n + t.rows, 0));
    for (const g of groups) if (g.first !== g.last) expect(g.rows).toBeLessThanOrEqual(TENANT_ROW_GROUP_ROWS);
    for (let i = 1; i < groups.length; i++) expect(groups[i]!.first! > groups[i - 1]!.last!).toBe(true);
  });
});
