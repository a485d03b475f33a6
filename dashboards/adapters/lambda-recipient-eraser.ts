import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describeError } from '../../lib/errors';
import type { ErasureInput, RecipientEraser } from '../api/ports';

/**
 * The Reports API's erasure in AWS: hands the request to the erasure function (privacy/erase.handler.ts, alias
 * `live`) as an asynchronous invocation and answers at once. An erasure finds files through Athena and rewrites the
 * lake, minutes of work against the 29 s API Gateway gives a request; the function writes its report (dry run or
 * not) to the erasure audit, where the compliance view shows it. Lambda retries a failed asynchronous run twice,
 * harmless: every store's erasure is idempotent.
 */
export class LambdaRecipientEraser implements RecipientEraser {
  constructor(
    private readonly lambda: Pick<LambdaClient, 'send'>,
    /** The erasure function's name or ARN, with its alias (`sesflow-prod-erase-recipient:live`). */
    private readonly functionName: string,
  ) {}

  async forget(input: ErasureInput): ReturnType<RecipientEraser['forget']> {
    const payload = {
      address: input.address,
      reason: input.reason,
      requestedBy: input.requestedBy,
      dryRun: input.dryRun,
      ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
    };
    try {
      const out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      );
      if (out.StatusCode !== 202) {
        return {
          ok: false,
          unavailable: true,
          error: `the erasure function did not accept the request (${out.StatusCode})`,
        };
      }
      return { ok: true, accepted: { requestId: out.$metadata.requestId ?? null, dryRun: input.dryRun } };
    } catch (err) {
      // The message names the function and the AWS error, never the payload (it holds the address).
      return {
        ok: false,
        unavailable: true,
        error: `the erasure function could not be invoked: ${describeError(err)}`,
      };
    }
  }
}
