import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { readLocalConfig } from '../config';
import { type LocalPipelineOptions, type RunningPipeline, startLocalPipeline } from './local-pipeline';

/**
 * Starts the local pipeline as an integration test wants it: its data under `dataDir`, on free ports, DynamoDB Local
 * and kinesalite in memory, no history and no live traffic unless `opts` asks, and the simulator's later events
 * (deliveries, opens) almost at once. `opts` adds to these or overrides them.
 */
export function startTestPipeline(
  dataDir: string,
  opts: Omit<LocalPipelineOptions, 'config'> = {},
): Promise<RunningPipeline> {
  return startLocalPipeline({
    config: readLocalConfig({ SESFLOW_DATA_DIR: dataDir }),
    ephemeralPorts: true,
    inMemory: true,
    historyMessages: 0,
    trafficRate: 0,
    timeFactor: 0.00001,
    ...opts,
  });
}

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
