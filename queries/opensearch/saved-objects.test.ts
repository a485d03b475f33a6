import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventsIndexTemplate, eventsMappingProperties } from './index-template';
import { buildSavedObjects, type SavedObject, savedObjectsNdjson } from './saved-objects';

const here = dirname(fileURLToPath(import.meta.url));
const committed = readFileSync(join(here, 'saved-objects.ndjson'), 'utf8');
const objects = committed
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as SavedObject);
const props = eventsMappingProperties() as Record<string, { type: string; fields?: Record<string, { type: string }> }>;

/** The mapping of a field path (`diagnostic_code.keyword` resolves to the sub-field). */
function mappingOf(path: string): { type: string } | undefined {
  if (props[path]) return props[path];
  const [base, sub] = path.split('.');
  return sub ? props[base!]?.fields?.[sub] : undefined;
}

const AGGREGATABLE = new Set(['keyword', 'date', 'boolean', 'long']);

describe('OpenSearch Dashboards saved objects', () => {
  it('the committed ndjson is what saved-objects.ts builds (regenerate it as docs/opensearch.md says)', () => {
    expect(committed).toBe(savedObjectsNdjson());
  });

  it('has an index pattern over the template indexes with @timestamp as its time field, and a dashboard', () => {
    const pattern = objects.find((o) => o.type === 'index-pattern')!;
    expect(pattern.attributes.title).toBe(eventsIndexTemplate().index_patterns[0]);
    expect(pattern.attributes.timeFieldName).toBe('@timestamp');
    expect(objects.filter((o) => o.type === 'visualization').length).toBeGreaterThanOrEqual(4);
    expect(objects.at(-1)!.type).toBe('dashboard');
  });

  it('every reference points to an object in the file, and every dashboard panel to a reference', () => {
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    for (const o of objects) {
      for (const ref of o.references) expect(ids.has(`${ref.type}:${ref.id}`), `${o.id} -> ${ref.id}`).toBe(true);
    }
    const dash = objects.find((o) => o.type === 'dashboard')!;
    const panels = JSON.parse(dash.attributes.panelsJSON as string) as { panelRefName: string }[];
    expect(panels.map((p) => p.panelRefName).sort()).toEqual(dash.references.map((r) => r.name).sort());
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
  });

  it('aggregates only on mapped, aggregatable fields and filters only on mapped fields', () => {
    for (const o of objects) {
      if (o.type === 'visualization') {
        const vis = JSON.parse(o.attributes.visState as string) as { aggs: { params: { field?: string } }[] };
        for (const agg of vis.aggs) {
          const field = agg.params.field;
          if (field === undefined) continue;
          expect(AGGREGATABLE.has(mappingOf(field)?.type ?? 'missing'), `${o.id}: ${field}`).toBe(true);
        }
      }
      if (o.type === 'search') {
        for (const c of o.attributes.columns as string[]) expect(mappingOf(c), `${o.id}: ${c}`).toBeDefined();
      }
      const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string } | undefined;
      if (!meta) continue;
      const query = (JSON.parse(meta.searchSourceJSON) as { query: { query: string } }).query.query;
      for (const [, field] of query.matchAll(/([\w.@]+):/g)) {
        expect(mappingOf(field!), `${o.id}: query field ${field}`).toBeDefined();
      }
    }
  });

  it('follows a custom index name', () => {
    expect(buildSavedObjects('mail-events-*')[0]!.attributes.title).toBe('mail-events-*');
  });
});
