import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeError } from '../lib/errors';
import { DeployError, runServerless, stageFromArgs } from './serverless-cli';

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The stack outputs the upload needs (serverless.yml, web hosting and sign-in block). */
export interface WebStackOutputs {
  bucket: string;
  distributionId: string;
  webUrl: string;
  signInDomain: string;
  userPoolClientId: string;
}

/** Reads the outputs from the stage's stack; a missing one names itself (the stack predates the web block). */
export async function readWebOutputs(
  cfn: Pick<CloudFormationClient, 'send'>,
  stackName: string,
): Promise<WebStackOutputs> {
  const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map((res.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const need = (key: string) => {
    const v = outputs.get(key);
    if (!v) throw new DeployError(`stack ${stackName} has no output ${key}: deploy the stack first (npm run deploy)`);
    return v;
  };
  return {
    bucket: need('WebBucketName'),
    distributionId: need('WebDistributionId'),
    webUrl: need('WebUrl'),
    signInDomain: need('SignInDomain'),
    userPoolClientId: need('UserPoolClientId'),
  };
}

/** One file to upload: its key, bytes, content type and cache policy. */
export interface WebFile {
  key: string;
  body: Buffer | string;
  contentType: string;
  cacheControl: string;
}

/**
 * The UI's files as they go to the bucket: the static files of dashboards/web, and the config document that puts
 * the page in Cognito mode (the managed login domain and the app client). Nothing is cached by browsers without
 * asking again (`no-cache`): CloudFront serves them, and the deploy invalidates it.
 */
export function webFiles(outputs: WebStackOutputs, dir: string = WEB_DIR): WebFile[] {
  const files: WebFile[] = readdirSync(dir)
    .filter((name) => TYPES[name.slice(name.lastIndexOf('.'))])
    .sort()
    .map((name) => ({
      key: name,
      body: readFileSync(join(dir, name)),
      contentType: TYPES[name.slice(name.lastIndexOf('.'))] as string,
      cacheControl: 'no-cache',
    }));
  const config = { mode: 'cognito', domain: outputs.signInDomain, clientId: outputs.userPoolClientId };
  files.push({
    key: 'config.json',
    body: `${JSON.stringify(config)}\n`,
    contentType: 'application/json',
    cacheControl: 'no-store',
  });
  return files;
}

/** Uploads the files, then invalidates every path of the distribution; returns the invalidation id. */
export async function uploadWeb(
  clients: { s3: Pick<S3Client, 'send'>; cloudfront: Pick<CloudFrontClient, 'send'> },
  outputs: WebStackOutputs,
  files: readonly WebFile[],
  now: () => Date = () => new Date(),
): Promise<string> {
  for (const f of files) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: outputs.bucket,
        Key: f.key,
        Body: f.body,
        ContentType: f.contentType,
        CacheControl: f.cacheControl,
      }),
    );
  }
  const inv = await clients.cloudfront.send(
    new CreateInvalidationCommand({
      DistributionId: outputs.distributionId,
      InvalidationBatch: { CallerReference: `sesflow-${now().getTime()}`, Paths: { Quantity: 1, Items: ['/*'] } },
    }),
  );
  return inv.Invalidation?.Id ?? '';
}

/**
 * `npm run deploy -- --stage X [serverless deploy options]`: `serverless deploy` with the arguments as given, then
 * the UI to its bucket and an invalidation of the distribution.
 */
async function main(argv: readonly string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  process.stdout.write(await runServerless(['deploy', ...argv]));
  const outputs = await readWebOutputs(new CloudFormationClient({}), `sesflow-${stage}`);
  const files = webFiles(outputs);
  const id = await uploadWeb({ s3: new S3Client({}), cloudfront: new CloudFrontClient({}) }, outputs, files);
  process.stdout.write(`web UI: ${files.length} files uploaded, invalidation ${id}; ${outputs.webUrl}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`deploy: ${describeError(err)}\n`);
    process.exit(1);
  });
}
