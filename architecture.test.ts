import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The imports between top-level folders, read from the source (tests and test fixtures aside: they may start the
 * local stand-ins). Stages import shared code (lib/, tenants/) and the stages before them; local/, cli/, bench/ and
 * deploy/ import the stages, never the other way round. A new arrow between folders must be added here on purpose.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  tenants: ['lib'],
  ingest: ['lib'],
  queries: ['lib', 'ingest'],
  enrich: ['lib', 'tenants', 'ingest', 'queries'],
  send: ['lib', 'tenants'],
  // The Reports API reads enrich/'s hourly counters (live figures) and switches SES sending as the reputation path does.
  dashboards: ['lib', 'tenants', 'ingest', 'queries', 'enrich'],
  // Erasure rewrites the lake with its code, finds files through queries/ (DuckDB view, Athena runner, OpenSearch
  // client) and asks enrich/'s External Reporting client to delete the records it keys by enrich/'s record ids.
  privacy: ['lib', 'ingest', 'queries', 'enrich'],
  local: ['lib', 'tenants', 'ingest', 'queries', 'enrich', 'send', 'dashboards', 'privacy'],
  deploy: ['lib', 'tenants', 'ingest', 'queries', 'enrich', 'send', 'dashboards', 'local'],
  bench: ['lib', 'tenants', 'ingest', 'queries', 'enrich', 'send', 'dashboards', 'local'],
  cli: ['lib', 'tenants', 'ingest', 'queries', 'enrich', 'send', 'dashboards', 'privacy', 'local', 'deploy', 'bench'],
  bin: ['cli', 'lib'],
};
const DOMAIN = ['ingest', 'send', 'enrich', 'queries', 'dashboards', 'privacy', 'tenants', 'lib'];
const ROOT = dirname(fileURLToPath(import.meta.url));

const isTestCode = (file: string) =>
  /\.(int\.|e2e\.)?test\.ts$/.test(file) || /(^|\/)test-[^/]*\.ts$/.test(file) || file.includes('test-support');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts')) out.push(rel);
  }
  return out;
}

/** Every relative import of a file, as the top-level folder it reaches. */
function importedFolders(file: string): { folder: string; spec: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: { folder: string; spec: string }[] = [];
  for (const m of text.matchAll(/(?:from|import\(?)\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = relative(ROOT, normalize(join(ROOT, dirname(file), m[1]!)));
    out.push({ folder: target.split(sep)[0]!, spec: m[1]! });
  }
  return out;
}

/** Folder -> the folders its non-test source imports. */
function graph(): Map<string, Map<string, string[]>> {
  const g = new Map<string, Map<string, string[]>>();
  for (const folder of Object.keys(ALLOWED)) {
    const edges = new Map<string, string[]>();
    for (const file of sourceFiles(folder).filter((f) => !isTestCode(f))) {
      for (const { folder: to } of importedFolders(file)) {
        if (to !== folder) edges.set(to, [...(edges.get(to) ?? []), file]);
      }
    }
    g.set(folder, edges);
  }
  return g;
}

describe('imports between top-level folders (source files; tests and test fixtures aside)', () => {
  const g = graph();

  it('follow the allowed arrows only: a new cross-stage import fails here', () => {
    const unexpected: string[] = [];
    for (const [from, edges] of g) {
      for (const [to, files] of edges) {
        if (!ALLOWED[from]?.includes(to)) unexpected.push(`${from} -> ${to} (${files.join(', ')})`);
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('never reach local/, cli/ or bench/ from a domain folder', () => {
    for (const d of DOMAIN) {
      for (const banned of ['local', 'cli', 'bench']) expect(g.get(d)?.has(banned), `${d} -> ${banned}`).toBeFalsy();
    }
  });

  it('have no cycle between folders', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(n)), n].join(' -> '));
        return;
      }
      state.set(n, 'visiting');
      for (const to of g.get(n)?.keys() ?? []) visit(to, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of g.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });

  it('reads real imports (the checker itself sees the arrows it guards)', () => {
    expect(g.get('send')?.has('tenants')).toBe(true);
    expect(g.get('cli')?.has('local')).toBe(true);
    expect(g.get('send')?.has('dashboards')).toBe(false);
  });
});
