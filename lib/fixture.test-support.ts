import { afterAll, beforeAll } from 'vitest';

/**
 * A value built before a test file's tests (a `beforeAll` hook) and disposed of after them; the returned function
 * reads it, and throws when read before it is built.
 */
export function useFixture<T>(build: () => T | Promise<T>, dispose: (value: T) => void | Promise<void>): () => T {
  let value: { v: T } | undefined;
  beforeAll(async () => {
    value = { v: await build() };
  });
  afterAll(async () => {
    if (value) await dispose(value.v);
  });
  return () => {
    if (!value) throw new Error('the test fixture is built in beforeAll');
    return value.v;
  };
}
