import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import type { RunningPipeline } from './local-pipeline';

/**
 * After the file's tests, stops the local pipeline `pipeline()` returns (if it started) and deletes its data
 * directory.
 */
export function stopPipelineAfterAll(pipeline: () => RunningPipeline | undefined, dataDir: string): void {
  afterAll(async () => {
    await pipeline()?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
}
