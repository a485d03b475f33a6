import type { z } from 'zod';
import { UsageError } from '../../lib/errors';

/** A command's options checked against its schema; the first problem is a one-line usage error. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? 'invalid options');
  return parsed.data;
}
