import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from './api/router';

/**
 * API Gateway (HTTP API, payload 2.0) -> the Reports API router. Thin: unwraps the event, calls the router, shapes
 * the response. The router and its adapters (Cognito authenticator, Athena report engine, DynamoDB tenant store and
 * rollups) are built once per container by `createHandler`'s caller.
 */
export function toApiRequest(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    // API Gateway joins repeated parameters with a comma: kept as one value, which validation then refuses.
    if (v !== undefined) query[k] = v;
  }
  const body = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : null;
  return { method: event.requestContext.http.method, path: event.rawPath, query, headers, body };
}

export function toResult(res: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

/** Builds the Lambda handler over a router. */
export function createHandler(route: (req: ApiRequest) => Promise<ApiResponse>) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    toResult(await route(toApiRequest(event)));
}
