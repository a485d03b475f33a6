import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll } from 'vitest';
import type { LakeStore } from '../../ingest/lake-store';
import { S3LakeStore } from '../../ingest/s3-lake-store';
import { useFauxqsClients } from './fauxqs-clients.test-support';

/**
 * An S3 lake for one test file: fauxqs started before its tests and stopped after them, and every folder the file
 * made through `scratch` (or handed to `removeAfter`) removed. Call at the top level of the test file.
 */
export function s3LakeForTests() {
  const clients = useFauxqsClients();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const scratch = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  return {
    /** A new bucket as a lake store. */
    async bucket(name: string): Promise<S3LakeStore> {
      await clients().s3!.send(new CreateBucketCommand({ Bucket: name }));
      return new S3LakeStore(clients().s3!, name);
    },
    scratch,
    /** Removes `dir` after the file's tests. */
    removeAfter(dir: string): void {
      dirs.push(dir);
    },
    /** A local copy of the store's objects under `prefixes` (what Athena would read, for DuckDB). */
    async mirror(store: LakeStore, prefixes: readonly string[]): Promise<string> {
      const dir = scratch('sesflow-s3-mirror-');
      for (const prefix of prefixes) {
        for (const key of await store.list(prefix)) {
          mkdirSync(dirname(join(dir, key)), { recursive: true });
          writeFileSync(join(dir, key), await store.get(key));
        }
      }
      return dir;
    },
  };
}
