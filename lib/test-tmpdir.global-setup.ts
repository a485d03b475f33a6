import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest global setup: the test run gets a temporary directory of its own (TMPDIR, which os.tmpdir() reads and the
 * test processes, stand-ins and Chromium inherit), removed when the run ends. A test that leaves its temp files behind
 * (a lake, a package, a browser profile) then leaves nothing on the machine.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'sesflow-test-run-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
}
