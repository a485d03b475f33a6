import { afterAll } from 'vitest';
import type { createOpenSearchClient } from './client';

/** After the tests of the enclosing describe, deletes the test index `name` and its template, whatever is left. */
export function removeIndexAfterAll(client: ReturnType<typeof createOpenSearchClient>, name: string): void {
  afterAll(async () => {
    await client.indices.delete({ index: name }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name }).catch(() => {});
  }, 60_000);
}
