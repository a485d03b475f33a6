// The Reports API server (dashboards/server.ts, as `sesflow start` runs it) over a lake, alone in its own process, so
// its start time and memory are its own. Prints {"url": ...} once listening; stops when its stdin closes. The engine
// keeps its rollup tables in the DuckDB file named by the third argument, as `sesflow start` does (in memory without).
import { startDashboardServer } from '../dashboards/server';

const [lakeDir, tenant, engineFile] = process.argv.slice(2);
const server = await startDashboardServer({
  port: 0,
  lakeDir: lakeDir!,
  engineFile: engineFile || null,
  apiKeys: {
    'bench-compliance': { keyId: 'bench-c', role: 'compliance', tenantId: null },
    'bench-client': { keyId: 'bench-a', role: 'client', tenantId: tenant! },
  },
  rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
  // The tenant list's figures are computed on every request (the server reuses them for 2 s by default).
  liveCacheMs: 0,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
