import { Readable } from 'node:stream';
import type { Connection } from '@opensearch-project/opensearch';
import type { ConnectionOverride } from './client';

/** A request as it would have gone on the wire (after signing, when the client signs). */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface FakeResponse {
  status: number;
  body: unknown;
}

/**
 * For unit tests: a Connection built on the client's real one (so SigV4 signing still runs) that records each request
 * and answers from `respond` instead of opening a socket.
 */
export function fakeConnection(respond: (req: RecordedRequest) => FakeResponse): {
  override: ConnectionOverride;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const override: ConnectionOverride = (Base) =>
    class FakeConnection extends Base {
      override request(params: never, callback: (err: Error | null, res: never) => void) {
        const built = this.buildRequestObject(params) as {
          method?: string;
          path?: string;
          headers?: Record<string, string>;
          body?: string | Buffer;
        };
        const req: RecordedRequest = {
          method: built.method ?? 'GET',
          path: built.path ?? '/',
          headers: Object.fromEntries(
            Object.entries(built.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
          ),
          body: built.body === undefined || built.body === null ? '' : String(built.body),
        };
        requests.push(req);
        const answer = respond(req);
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        const res = Readable.from([Buffer.from(text)]) as Readable & {
          statusCode: number;
          headers: Record<string, string>;
          setEncoding: (e: BufferEncoding) => Readable;
        };
        res.statusCode = answer.status;
        res.headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
        setImmediate(() => callback(null, res as never));
        return { abort() {} } as never;
      }
    } as unknown as typeof Connection;
  return { override, requests };
}
