import { type ZodError, z } from 'zod';
import { checkAddress, checkMailbox, headerValueProblem, templateNames } from '../address';
import { BadRequestError } from './errors';

/** SES accepts at most 50 recipients (To + Cc + Bcc) per message. */
export const MAX_RECIPIENTS = 50;
/** Destinations in one bulk job; the job is cut into SQS messages of `CHUNK_SIZE`. */
export const MAX_BATCH_DESTINATIONS = 10_000;
/** SendBulkEmail takes at most 50 entries per call: one SQS message = one call. */
export const CHUNK_SIZE = 50;
/** Request bodies: below API Gateway's 10 MB and Lambda's 6 MB synchronous payload. */
export const MAX_MESSAGE_BODY_BYTES = 1024 * 1024;
export const MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024;
/** html + text of one message or one job: a chunk (content + 50 destinations) stays well under SQS's 1 MiB. */
export const MAX_CONTENT_BYTES = 512 * 1024;
/** One destination's replacement data, as JSON. */
export const MAX_REPLACEMENTS_BYTES = 4 * 1024;

/** SES EmailTag values: ASCII letters, digits, `_` and `-`, 1 to 256 characters (aws-facts §1.2). */
const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

/** One address as SES takes it (send/address.ts), its domain given in Punycode. */
export const AddressSchema = z.string({ error: 'must be an email address' }).transform((s, ctx) => {
  const r = checkAddress(s);
  if (r.ok) return r.address;
  ctx.addIssue({ code: 'custom', message: r.reason });
  return z.NEVER;
});

/** `sender@example.com` or `Display Name <sender@example.com>`: one RFC 5322 mailbox, normalised for SES. */
export const FromSchema = z.string({ error: 'must be an email address' }).transform((s, ctx) => {
  const r = checkMailbox(s);
  if (r.ok) return r.header;
  ctx.addIssue({ code: 'custom', message: r.reason });
  return z.NEVER;
});

export const TagValueSchema = z
  .string({ error: 'must be a string' })
  .regex(TAG_VALUE, 'may contain only letters, digits, _ and - (1 to 256 characters)');

/** A header value: one line, no control characters, valid Unicode. */
const headerValue = (s: string, ctx: z.RefinementCtx) => {
  const problem = headerValueProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

const SubjectSchema = z
  .string({ error: 'is required' })
  .min(1, 'must not be empty')
  .max(998, 'is over 998 characters')
  .superRefine(headerValue);

const AddressListSchema = z.array(AddressSchema, { error: 'must be a list of email addresses' });

const bytes = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);

function checkContent(
  v: { html?: string; text?: string },
  ctx: { addIssue(issue: { code: 'custom'; message: string; path: string[] }): void },
): void {
  if (v.html === undefined && v.text === undefined)
    ctx.addIssue({ code: 'custom', message: 'html or text is required', path: [] });
  if (bytes(v.html) + bytes(v.text) > MAX_CONTENT_BYTES)
    ctx.addIssue({ code: 'custom', message: `html + text is over ${MAX_CONTENT_BYTES / 1024} KiB`, path: [] });
}

/** `POST /v1/messages`: one message, up to 50 recipients. */
export const SendMessageBodySchema = z
  .strictObject({
    from: FromSchema,
    to: AddressListSchema.min(1, 'needs at least one address'),
    cc: AddressListSchema.optional(),
    bcc: AddressListSchema.optional(),
    replyTo: AddressListSchema.max(10, 'has more than 10 addresses').optional(),
    subject: SubjectSchema,
    html: z.string({ error: 'must be a string' }).optional(),
    text: z.string({ error: 'must be a string' }).optional(),
    campaign: TagValueSchema.optional(),
    messageKind: TagValueSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const n = v.to.length + (v.cc?.length ?? 0) + (v.bcc?.length ?? 0);
    if (n > MAX_RECIPIENTS)
      ctx.addIssue({ code: 'custom', message: `too many recipients: ${n} (at most ${MAX_RECIPIENTS})`, path: [] });
    checkContent(v, ctx);
  });
export type SendMessageBody = z.infer<typeof SendMessageBodySchema>;

const ReplacementsSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'replacement names may contain only letters, digits, _ and -'),
    z.string({ error: 'replacement values must be strings' }),
  )
  .refine((r) => Buffer.byteLength(JSON.stringify(r)) <= MAX_REPLACEMENTS_BYTES, {
    message: `is over ${MAX_REPLACEMENTS_BYTES / 1024} KiB`,
  });

export const BulkDestinationSchema = z.strictObject({
  to: AddressSchema,
  replacements: ReplacementsSchema.optional(),
});

/** `POST /v1/batches`: one content, many destinations (one recipient each), sent through SQS by the worker. */
export const BatchBodySchema = z
  .strictObject({
    from: FromSchema,
    subject: SubjectSchema,
    html: z.string({ error: 'must be a string' }).optional(),
    text: z.string({ error: 'must be a string' }).optional(),
    campaign: TagValueSchema.optional(),
    messageKind: TagValueSchema.optional(),
    destinations: z
      .array(BulkDestinationSchema, { error: 'must be a list of {"to": ...}' })
      .min(1, 'needs at least one destination')
      .max(MAX_BATCH_DESTINATIONS, `has more than ${MAX_BATCH_DESTINATIONS.toLocaleString('en-US')} entries`),
  })
  .superRefine((v, ctx) => {
    checkContent(v, ctx);
    // A replacement lands in the subject as it is: it must keep the subject one clean line.
    const inSubject = templateNames(v.subject);
    v.destinations.forEach((d, i) => {
      for (const [name, value] of Object.entries(d.replacements ?? {})) {
        if (!inSubject.has(name)) continue;
        const problem = headerValueProblem(value);
        if (problem) {
          ctx.addIssue({
            code: 'custom',
            message: `is used in the subject and ${problem}`,
            path: ['destinations', i, 'replacements', name],
          });
          return;
        }
      }
    });
  });
export type BatchBody = z.infer<typeof BatchBodySchema>;

/** Ids in paths: SES message ids (hex and dashes) and job ids (`job-<uuid>`); nothing else reaches a store. */
export const MessageIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/);
export const JobIdSchema = z.string().regex(/^job-[0-9a-f-]{36}$/);

/** The first issue of a zod error as one line: `to.3: is not an email address`. */
export function firstIssue(err: ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return `unknown field "${issue.keys[0]?.slice(0, 40) ?? ''}"`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${path || 'body'}: is required`;
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** JSON.parse + schema, with a one-line 400 for either failure. */
export function parseBody<T>(schema: z.ZodType<T>, body: string | null): T {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    throw new BadRequestError('the body must be JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BadRequestError('the body must be a JSON object');
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new BadRequestError(firstIssue(parsed.error));
  return parsed.data;
}
