import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * Writes a stand-in's answer as an AWS JSON service does: the body as JSON with its length and a request id, and for
 * an error `x-amzn-ErrorType: <name>` (the header the SDK reads the error's name from).
 */
export function writeAwsJson(
  res: ServerResponse,
  contentType: string,
  status: number,
  body: Record<string, unknown>,
  errorType?: string,
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}
