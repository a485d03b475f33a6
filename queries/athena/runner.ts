import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { SesflowError } from '../../lib/errors';
import { sleep } from '../../lib/retry';

/**
 * Runs one SQL statement on Athena (aws-facts §5.3): StartQueryExecution in a workgroup with result reuse and
 * ExecutionParameters, GetQueryExecution polled with backoff until a terminal state (there is no waiter), and
 * GetQueryResults read page by page, the header row skipped and every value typed from ColumnInfo.
 */

/** An Athena query that failed, was cancelled, was stopped by the scan guard, or could not be started. */
export class AthenaQueryError extends SesflowError {
  override name = 'AthenaQueryError';
  constructor(
    message: string,
    readonly details: {
      queryExecutionId?: string;
      state?: string;
      reason?: string;
      errorType?: number;
      errorCategory?: number;
      retryable?: boolean;
      bytesScanned?: number;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The scan guard stopped the query: it read more than the limit. */
export class AthenaScanLimitError extends AthenaQueryError {
  override name = 'AthenaScanLimitError';
}

export type AthenaValue = string | number | boolean | null;

export interface AthenaColumn {
  name: string;
  /** Athena's type name: varchar, bigint, double, boolean, timestamp, date, decimal, … */
  type: string;
}

export interface AthenaResult {
  queryExecutionId: string;
  columns: AthenaColumn[];
  rows: Record<string, AthenaValue>[];
  bytesScanned: number;
  /** Athena answered from a previous run's results (result reuse): nothing was scanned. */
  reusedPreviousResult: boolean;
  /** More rows existed than `maxRows`; the rest were not read. */
  truncated: boolean;
}

export interface AthenaRunnerOptions {
  /** An Athena client (any object with its `send`): created once and injected. */
  client: Pick<AthenaClient, 'send'>;
  workGroup: string;
  database: string;
  /** Default `AwsDataCatalog`. */
  catalog?: string;
  /** Results location, when the workgroup does not enforce its own. */
  outputLocation?: string;
  /** Reuse results of the same query and parameters up to this age (default 60, Athena's default); 0 turns it off. */
  resultReuseMinutes?: number;
  /**
   * Stop a running query once it has scanned more than this (default 10 GiB = $0.05 at $5/TB). Checked on every
   * poll, so a query can pass it by what it reads between two polls; a workgroup's BytesScannedCutoffPerQuery is
   * the hard limit in AWS.
   */
  maxBytesScanned?: number;
  /** Polling backoff: first wait, growth factor, longest wait (defaults 200 ms, 1.6, 3 s). */
  poll?: { firstMs?: number; factor?: number; maxMs?: number };
  /** Give up (and stop the query) after this long (default 5 min). */
  timeoutMs?: number;
  /** Rows per GetQueryResults page (1–1000, default 1000). */
  pageSize?: number;
  /** For tests: how to wait, and what time it is. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RunOptions {
  /** ExecutionParameters: one literal per `?`, in order (see statement.ts). */
  parameters?: string[];
  /** Stop reading results after this many rows (default: all). */
  maxRows?: number;
  /** Idempotency token for StartQueryExecution (32–128 characters). */
  clientRequestToken?: string;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;

const oneLine = (s: string | undefined) => (s ?? '').split('\n')[0]!.trim().slice(0, 500);

function describeSdkError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${oneLine(err.message)}`;
  return oneLine(String(err));
}

/** A time as Athena prints it (`2026-05-01 10:00:00.000`, maybe with a zone) as ISO 8601 UTC. */
function athenaTimestamp(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(?: ?(UTC|Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  if (!m) return text;
  const frac = (m[3] ?? '.000').slice(0, 4).padEnd(4, '0');
  const zone = !m[4] || m[4] === 'UTC' || m[4] === 'Z' ? 'Z' : m[4];
  const t = Date.parse(`${m[1]}T${m[2]}${frac}${zone}`);
  return Number.isNaN(t) ? text : new Date(t).toISOString();
}

/** A value of GetQueryResults (always text, or absent for NULL) as the JS value its column type says. */
export function typedValue(text: string | undefined, type: string): AthenaValue {
  if (text === undefined) return null;
  const t = type.toLowerCase().replace(/\(.*$/, '').trim();
  switch (t) {
    case 'boolean':
      return text === 'true';
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint': {
      const n = Number(text);
      // Beyond 2^53 a JS number would change the value: kept as its exact text.
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(text);
    case 'timestamp':
    case 'timestamp with time zone':
      return athenaTimestamp(text);
    default:
      return text;
  }
}

export class AthenaRunner {
  private readonly client: Pick<AthenaClient, 'send'>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: AthenaRunnerOptions) {
    this.client = opts.client;
    this.sleep = opts.sleep ?? sleep;
    this.now = opts.now ?? Date.now;
    const page = opts.pageSize ?? 1000;
    if (!Number.isInteger(page) || page < 1 || page > 1000) throw new Error('pageSize must be 1 to 1000 (Athena)');
  }

  /** Starts the query, waits for it, and reads its results. */
  async run(sql: string, options: RunOptions = {}): Promise<AthenaResult> {
    const id = await this.start(sql, options);
    const execution = await this.wait(id);
    const stats = execution.Statistics;
    const { columns, rows, truncated } = await this.results(id, options.maxRows);
    return {
      queryExecutionId: id,
      columns,
      rows,
      bytesScanned: stats?.DataScannedInBytes ?? 0,
      reusedPreviousResult: stats?.ResultReuseInformation?.ReusedPreviousResult ?? false,
      truncated,
    };
  }

  /** StartQueryExecution; returns the QueryExecutionId. */
  async start(sql: string, options: RunOptions = {}): Promise<string> {
    const reuse = this.opts.resultReuseMinutes ?? 60;
    try {
      const out = await this.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: this.opts.workGroup,
          QueryExecutionContext: { Database: this.opts.database, Catalog: this.opts.catalog ?? 'AwsDataCatalog' },
          ...(this.opts.outputLocation ? { ResultConfiguration: { OutputLocation: this.opts.outputLocation } } : {}),
          ...(options.parameters?.length ? { ExecutionParameters: options.parameters } : {}),
          ResultReuseConfiguration: {
            ResultReuseByAgeConfiguration: reuse > 0 ? { Enabled: true, MaxAgeInMinutes: reuse } : { Enabled: false },
          },
          ...(options.clientRequestToken ? { ClientRequestToken: options.clientRequestToken } : {}),
        }),
      );
      if (!out.QueryExecutionId) throw new AthenaQueryError('Athena started no query (no QueryExecutionId)');
      return out.QueryExecutionId;
    } catch (err) {
      if (err instanceof AthenaQueryError) throw err;
      throw new AthenaQueryError(`Athena refused the query: ${describeSdkError(err)}`, {}, { cause: err });
    }
  }

  /**
   * Polls GetQueryExecution with growing waits until SUCCEEDED (returned), FAILED or CANCELLED (thrown with
   * Athena's reason). QUEUED and RUNNING keep polling; a transient error can move a query from RUNNING back to
   * QUEUED, which is still not terminal. The scan guard and the timeout stop the query.
   */
  async wait(id: string): Promise<QueryExecution> {
    const first = this.opts.poll?.firstMs ?? 200;
    const factor = this.opts.poll?.factor ?? 1.6;
    const max = this.opts.poll?.maxMs ?? 3000;
    const limit = this.opts.maxBytesScanned ?? DEFAULT_MAX_BYTES;
    const deadline = this.now() + (this.opts.timeoutMs ?? 300_000);
    let delay = first;
    for (;;) {
      let out: GetQueryExecutionCommandOutput;
      try {
        out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      } catch (err) {
        throw new AthenaQueryError(`Athena query ${id}: status unavailable: ${describeSdkError(err)}`, {
          queryExecutionId: id,
        });
      }
      const execution = out.QueryExecution ?? {};
      const status = execution.Status ?? {};
      const state = status.State ?? 'QUEUED';
      const scanned = execution.Statistics?.DataScannedInBytes ?? 0;
      if (state === 'SUCCEEDED') return execution;
      if (TERMINAL.has(state)) {
        const reason = oneLine(status.StateChangeReason ?? status.AthenaError?.ErrorMessage) || 'no reason given';
        const athenaError = status.AthenaError;
        throw new AthenaQueryError(`Athena query ${id} ${state === 'FAILED' ? 'failed' : 'was cancelled'}: ${reason}`, {
          queryExecutionId: id,
          state,
          reason,
          bytesScanned: scanned,
          ...(athenaError?.ErrorType === undefined ? {} : { errorType: athenaError.ErrorType }),
          ...(athenaError?.ErrorCategory === undefined ? {} : { errorCategory: athenaError.ErrorCategory }),
          ...(athenaError?.Retryable === undefined ? {} : { retryable: athenaError.Retryable }),
        });
      }
      if (scanned > limit) {
        await this.stop(id);
        throw new AthenaScanLimitError(
          `Athena query ${id} stopped: it scanned ${formatBytes(scanned)}, over the ${formatBytes(limit)} limit (narrow the time range)`,
          { queryExecutionId: id, state: 'CANCELLED', bytesScanned: scanned },
        );
      }
      if (this.now() + delay > deadline) {
        await this.stop(id);
        throw new AthenaQueryError(
          `Athena query ${id} stopped: still ${state} after ${this.opts.timeoutMs ?? 300_000} ms`,
          {
            queryExecutionId: id,
            state,
            bytesScanned: scanned,
          },
        );
      }
      await this.sleep(delay);
      delay = Math.min(max, Math.round(delay * factor));
    }
  }

  /** StopQueryExecution; a failure to stop is reported in the error that follows, never hidden. */
  private async stop(id: string): Promise<void> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch (err) {
      throw new AthenaQueryError(`Athena query ${id} could not be stopped: ${describeSdkError(err)}`, {
        queryExecutionId: id,
      });
    }
  }

  /**
   * Reads GetQueryResults page by page. On the first page of a SELECT, the first row holds the column names: it is
   * skipped (only there, and only when it is exactly the column labels). Values are typed from ColumnInfo.
   */
  async results(
    id: string,
    maxRows = Number.POSITIVE_INFINITY,
  ): Promise<{ columns: AthenaColumn[]; rows: Record<string, AthenaValue>[]; truncated: boolean }> {
    const rows: Record<string, AthenaValue>[] = [];
    let columns: AthenaColumn[] = [];
    let info: ColumnInfo[] = [];
    let token: string | undefined;
    let page = 0;
    do {
      const out = await this.client
        .send(
          new GetQueryResultsCommand({
            QueryExecutionId: id,
            MaxResults: this.opts.pageSize ?? 1000,
            ...(token ? { NextToken: token } : {}),
          }),
        )
        .catch((err: unknown) => {
          throw new AthenaQueryError(`Athena query ${id}: results unavailable: ${describeSdkError(err)}`, {
            queryExecutionId: id,
          });
        });
      if (page === 0) {
        info = out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        columns = info.map((c) => ({ name: c.Name ?? c.Label ?? '', type: c.Type ?? 'varchar' }));
      }
      let data = out.ResultSet?.Rows ?? [];
      if (page === 0 && data.length > 0) {
        const labels = info.map((c) => c.Label ?? c.Name);
        const first = (data[0]!.Data ?? []).map((d) => d.VarCharValue);
        if (first.length === labels.length && first.every((v, i) => v === labels[i])) data = data.slice(1);
      }
      for (const row of data) {
        if (rows.length >= maxRows) return { columns, rows, truncated: true };
        const cells = row.Data ?? [];
        const obj: Record<string, AthenaValue> = {};
        columns.forEach((c, i) => {
          obj[c.name] = typedValue(cells[i]?.VarCharValue, c.type);
        });
        rows.push(obj);
      }
      token = out.NextToken;
      page++;
    } while (token);
    return { columns, rows, truncated: false };
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${n} bytes`;
}
