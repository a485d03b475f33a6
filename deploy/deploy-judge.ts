import { z } from 'zod';
import { DeployError } from './serverless-cli';

/**
 * What a smoke test records before a deploy begins, to judge afterwards only what the deploy changed: when it began
 * and how many messages stood in each dead-letter queue then (old messages are someone's to redrive, not the new
 * version's fault).
 */
export const deployBaselineSchema = z.object({
  stage: z.string().min(1),
  startedAt: z.number().int().positive(),
  deadLetterDepths: z.record(z.string(), z.number().int().nonnegative()),
});
export type DeployBaseline = z.infer<typeof deployBaselineSchema>;

/** Errors of each function's new version (the alias's current version) since the deploy began. */
export interface NewVersionErrors {
  function: string;
  version: string;
  errors: number;
}

/**
 * The failures of a deploy, one line each: a dead-letter queue that holds more messages than when the deploy began,
 * and a function whose new version has thrown since then. Standing depth (messages that were there before) does not
 * count, nor does a queue that shrank (someone redrove it).
 */
export function judgeDeploy(
  baseline: DeployBaseline,
  currentDepths: Readonly<Record<string, number>>,
  newVersionErrors: readonly NewVersionErrors[],
): string[] {
  const failures: string[] = [];
  for (const [queue, depth] of Object.entries(currentDepths)) {
    const before = baseline.deadLetterDepths[queue] ?? 0;
    if (depth > before)
      failures.push(`dead letters: ${queue} grew by ${depth - before} since the deploy began (${before} -> ${depth})`);
  }
  for (const e of newVersionErrors) {
    if (e.errors > 0)
      failures.push(`new version: ${e.function} version ${e.version} threw ${e.errors} time(s) since the deploy began`);
  }
  return failures;
}

/** A baseline file's content, checked; one line naming the file when it is not one. */
export function parseBaseline(text: string, file: string): DeployBaseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DeployError(`${file} is not JSON: record it with --record-baseline before the deploy`);
  }
  const parsed = deployBaselineSchema.safeParse(json);
  if (!parsed.success) throw new DeployError(`${file} is not a smoke baseline (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}
