/**
 * The metric predicates live in ingest/metrics.ts: the rollup build SQL (ingest/rollups.ts), run by compaction,
 * counts with them, and ingest/ may not import queries/. The queries read them from here.
 */
export * from '../ingest/metrics';
