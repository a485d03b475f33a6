import { Client, Connection } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { OpenSearchInputError } from './errors';

/** How requests are authenticated: SigV4 for OpenSearch Serverless (`aoss`) or a managed domain (`es`), or none. */
export type OpenSearchAuth = 'aoss' | 'es' | 'none';

/** AWS credentials as the SDK's providers return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Test seam: given the Connection class the client would use (the signing one for SigV4), returns a subclass. */
export type ConnectionOverride = (base: typeof Connection) => typeof Connection;

export interface OpenSearchClientOptions {
  /** Endpoint URL, e.g. `https://<collection-id>.<region>.aoss.amazonaws.com` (basic-auth userinfo allowed for `none`). */
  node: string;
  /** Default: `aoss` for `*.aoss.amazonaws.com`, `es` for `*.es.amazonaws.com`, else `none`. */
  auth?: OpenSearchAuth;
  /** Default: the region in the endpoint's host name, else AWS_REGION. */
  region?: string;
  /** Default: the AWS SDK's default provider chain (environment, profile, container or instance role). */
  getCredentials?: () => Promise<AwsCredentials>;
  /** Test seam: a fake Connection that answers without a network, built on the real (signing) one. */
  connection?: ConnectionOverride;
  requestTimeoutMs?: number;
}

const AWS_HOST = /^[^.]+\.([a-z0-9-]+)\.(aoss|es)\.amazonaws\.com$/;

/** The auth mode and region an endpoint implies (see {@link OpenSearchClientOptions}). */
export function endpointAuth(node: string): { auth: OpenSearchAuth; region: string | null } {
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw new OpenSearchInputError(`OpenSearch endpoint is not a URL: ${node.slice(0, 80)}`);
  }
  const m = AWS_HOST.exec(url.hostname);
  if (!m) return { auth: 'none', region: null };
  return { auth: m[2] as 'aoss' | 'es', region: m[1]! };
}

/**
 * An OpenSearch client for the endpoint. For OpenSearch Serverless it signs every request with SigV4 and service
 * `aoss`: the signer's default service is `es`, which Serverless rejects (aws-facts §7).
 */
export function createOpenSearchClient(opts: OpenSearchClientOptions): Client {
  const implied = endpointAuth(opts.node);
  const auth = opts.auth ?? implied.auth;
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  if (auth === 'none') {
    return new Client({ node: opts.node, requestTimeout, Connection: opts.connection?.(Connection) ?? Connection });
  }
  const region = opts.region ?? implied.region ?? process.env.AWS_REGION;
  if (!region) throw new OpenSearchInputError(`no AWS region for ${opts.node}: set AWS_REGION`);
  const signer = AwsSigv4Signer({
    region,
    service: auth,
    ...(opts.getCredentials ? { getCredentials: opts.getCredentials } : {}),
  });
  const SigningConnection = signer.Connection;
  return new Client({
    ...signer,
    Connection: opts.connection?.(SigningConnection) ?? SigningConnection,
    node: opts.node,
    requestTimeout,
  });
}
