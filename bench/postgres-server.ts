import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

/** The newest Debian PostgreSQL server binaries (`/usr/lib/postgresql/<major>/bin`), or null when none is installed. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(root, majors[0]!, 'bin') : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ThrowawayPostgres {
  port: number;
  dataDir: string;
  version: string;
  /** The server's main process (its reaped children's CPU time includes every finished parallel worker). */
  postmasterPid(): number;
  connect(): Promise<pg.Client>;
  stop(): void;
}

/**
 * Server settings for an analytics box of this size (2 vCPU, 23 GB): generous memory for sorts and hashes, both cores
 * for parallel scans. Durability is off (fsync, full-page writes) because the data is a throwaway copy; that speeds
 * the load and changes nothing for read queries.
 */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  shared_buffers: '4GB',
  effective_cache_size: '16GB',
  work_mem: '256MB',
  maintenance_work_mem: '2GB',
  max_worker_processes: '4',
  max_parallel_workers: '2',
  max_parallel_workers_per_gather: '2',
  max_parallel_maintenance_workers: '2',
  random_page_cost: '1.1',
  // JIT compilation costs 0.5-3 s per query here (measured) and pays back only on much longer queries.
  jit: 'off',
  fsync: 'off',
  full_page_writes: 'off',
  synchronous_commit: 'off',
  max_wal_size: '8GB',
  checkpoint_timeout: '30min',
};

/**
 * A PostgreSQL cluster in `dataDir` (created with initdb when missing), started on a free port with the socket in
 * the data directory. initdb refuses to run as root, so as root the server runs as the `postgres` system user (the
 * data directory is handed to it); otherwise as the current user. Connections are local and trusted.
 */
export async function startThrowawayPostgres(bin: string, dataDir: string): Promise<ThrowawayPostgres> {
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? pgSystemUser() : null;
  const run = (cmd: string, args: string[]) => {
    const full = owner
      ? [
          'setpriv',
          '--reuid',
          String(owner.uid),
          '--regid',
          String(owner.gid),
          '--init-groups',
          join(bin, cmd),
          ...args,
        ]
      : [join(bin, cmd), ...args];
    const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
    }
    return r.stdout;
  };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    if (owner) chownSync(dataDir, owner.uid, owner.gid);
    chmodSync(dataDir, 0o700);
    run('initdb', ['-D', dataDir, '-U', 'bench', '--auth=trust', '-E', 'UTF8', '--locale=C']);
  }
  const port = await freePort();
  const opts = [`-p ${port}`, `-k ${dataDir}`, ...Object.entries(SERVER_SETTINGS).map(([k, v]) => `-c ${k}=${v}`)];
  run('pg_ctl', ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-o', opts.join(' '), '-w', '-t', '120', 'start']);
  const version = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  return {
    port,
    dataDir,
    version,
    postmasterPid: () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    async connect() {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'bench', database: 'postgres' });
      await client.connect();
      return client;
    },
    stop() {
      run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
  };
}

function pgSystemUser(): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  if (!uid || !gid) throw new Error('running as root needs the postgres system user (Debian postgresql package)');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Makes a file the server process reads with `COPY ... FROM '<file>'` readable by it. */
export function shareWithServer(file: string): void {
  chmodSync(file, 0o644);
}
