/**
 * The rollup tables' contract lives in ingest/rollups.ts, beside the compaction that writes them (ingest/ may not
 * import queries/); the queries read it from here.
 */
export * from '../ingest/rollups';
