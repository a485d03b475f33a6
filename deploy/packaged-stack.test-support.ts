import { rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { type PackagedStack, packageStack } from './package-stack';
import type { CfnResource } from './template-checks';

/** The packaged stack of one stage for a template test file, with lookups of its resources by logical id. */
export interface PackagedStackFixture {
  /** The stack `serverless package` built (set once the file's `beforeAll` has run). */
  readonly stack: PackagedStack;
  /** The resource with this logical id; throws when the template has none. */
  res(id: string): CfnResource;
  /** The resource's Properties (an empty object when it has none). */
  // biome-ignore lint/suspicious/noExplicitAny: Properties are free-form CloudFormation, read as in the template tests
  props(id: string): Record<string, any>;
}

/**
 * Packages `stage` once before the file's tests (a `beforeAll` hook), removes the package after them, and returns
 * lookups into its template.
 */
export function usePackagedStack(stage: string): PackagedStackFixture {
  let packaged: PackagedStack | undefined;
  beforeAll(async () => {
    packaged = await packageStack(stage);
  }, 600_000);
  afterAll(() => {
    if (packaged) rmSync(packaged.dir, { recursive: true, force: true });
  });
  const fixture: PackagedStackFixture = {
    get stack() {
      if (!packaged) throw new Error(`the ${stage} stack is not packaged yet`);
      return packaged;
    },
    res(id) {
      const r = fixture.stack.template.Resources[id];
      if (!r) throw new Error(`resource ${id} is not in the template`);
      return r;
    },
    // biome-ignore lint/suspicious/noExplicitAny: Properties are free-form CloudFormation, read as in the template tests
    props: (id) => (fixture.res(id).Properties ?? {}) as Record<string, any>,
  };
  return fixture;
}
