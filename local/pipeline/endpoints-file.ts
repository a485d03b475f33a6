import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../lib/errors';

const url = z.string().optional();
const name = z.string().optional();

/** The names of the local resources, as `sesflow start` made them (LocalConfig `resources`). */
export const EndpointsResourcesSchema = z.looseObject({
  eventsStream: name,
  reputationStream: name,
  lakeBucket: name,
  reportingQueue: name,
  reportingDlq: name,
  sendQueue: name,
  table: name,
});

/**
 * `<data dir>/endpoints.json`, which `sesflow start` writes once every service is up: each service's URL, the lake
 * directory, the resources' names and the pipeline's pid. Every field is optional here; a reader checks the ones it
 * needs and says what is missing.
 */
export const EndpointsFileSchema = z.looseObject({
  dynamodb: url,
  fauxqs: url,
  kinesis: url,
  ses: url,
  firehose: url,
  dns: url,
  reporting: url,
  unsubscribe: url,
  lakeDir: z.string().optional(),
  pid: z.number().optional(),
  resources: EndpointsResourcesSchema.optional(),
});
export type EndpointsFile = z.infer<typeof EndpointsFileSchema>;

/** Where the endpoints file of the data directory `dataDir` is. */
export const endpointsFilePath = (dataDir: string): string => join(dataDir, 'endpoints.json');

/** Writes the endpoints file of a started pipeline. */
export function writeEndpointsFile(dataDir: string, endpoints: EndpointsFile): void {
  writeFileSync(endpointsFilePath(dataDir), `${JSON.stringify(endpoints, null, 2)}\n`);
}

/**
 * The endpoints file of the local pipeline in `dataDir`: null when there is none, a one-line usage error when it is
 * not JSON or not an endpoints file.
 */
export function readEndpointsFile(dataDir: string): EndpointsFile | null {
  const file = endpointsFilePath(dataDir);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new UsageError(`${file} is not valid JSON: restart \`sesflow start\``);
  }
  const parsed = EndpointsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const at = parsed.error.issues[0]?.path.join('.') || 'the file';
    throw new UsageError(`${file} does not look like sesflow start's endpoints file (${at})`);
  }
  return parsed.data;
}
