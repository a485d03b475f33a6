import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiHandler, ApiRequest, ApiResponse } from './request';

/** An API Gateway (HTTP API, payload 2.0) event as the router's request. */
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
  // With mutual TLS on the custom domain, API Gateway has checked the client certificate against the truststore.
  const cert = (event.requestContext as { authentication?: { clientCert?: { subjectDN?: string } } }).authentication
    ?.clientCert?.subjectDN;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query,
    headers,
    body,
    clientIp: event.requestContext.http.sourceIp,
    ...(cert ? { clientCertSubject: cert } : {}),
  };
}

/** The router's answer as the Lambda's result. */
export function toResult(res: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

/** A Lambda handler over a router: the event in, the router's answer out. */
export function createHandler(route: ApiHandler) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    toResult(await route(toApiRequest(event)));
}
