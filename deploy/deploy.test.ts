import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { readWebOutputs, uploadWeb, type WebStackOutputs, webFiles } from './deploy';

const OUTPUTS: WebStackOutputs = {
  bucket: 'sesflow-prod-webbucket-abc',
  distributionId: 'E2EXAMPLE',
  webUrl: 'https://d111111abcdef8.cloudfront.net',
  signInDomain: 'https://sesflow-prod-123456789012.auth.eu-west-1.amazoncognito.com',
  userPoolClientId: '4example5client',
};

/** A client whose `send` records the commands and answers from `answer`. */
function recorder(answer: (cmd: unknown) => unknown = () => ({})) {
  const sent: unknown[] = [];
  return {
    sent,
    send: async (cmd: unknown) => {
      sent.push(cmd);
      return answer(cmd);
    },
  } as never as {
    sent: unknown[];
    send: (cmd: never) => Promise<never>;
  };
}

describe('npm run deploy: the web UI upload', () => {
  it('reads the web outputs of the stage stack, and names an output that is missing', async () => {
    const outputs = Object.entries({
      WebBucketName: OUTPUTS.bucket,
      WebDistributionId: OUTPUTS.distributionId,
      WebUrl: OUTPUTS.webUrl,
      SignInDomain: OUTPUTS.signInDomain,
      UserPoolClientId: OUTPUTS.userPoolClientId,
    }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
    const cfn = recorder(() => ({ Stacks: [{ Outputs: outputs }] }));
    expect(await readWebOutputs(cfn, 'sesflow-prod')).toEqual(OUTPUTS);
    expect((cfn.sent[0] as DescribeStacksCommand).input).toEqual({ StackName: 'sesflow-prod' });
    const old = recorder(() => ({ Stacks: [{ Outputs: outputs.filter((o) => o.OutputKey !== 'WebBucketName') }] }));
    await expect(readWebOutputs(old, 'sesflow-prod')).rejects.toThrow(
      'stack sesflow-prod has no output WebBucketName: deploy the stack first (npm run deploy)',
    );
  });

  it('uploads the static files with their types and a config document in Cognito mode, then invalidates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-web-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'app.js'), 'export {}');
      writeFileSync(join(dir, 'notes.txt'), 'not part of the UI');
      const files = webFiles(OUTPUTS, dir);
      expect(files.map((f) => [f.key, f.contentType])).toEqual([
        ['app.js', 'text/javascript; charset=utf-8'],
        ['index.html', 'text/html; charset=utf-8'],
        ['config.json', 'application/json'],
      ]);
      expect(JSON.parse(String(files[2]?.body))).toEqual({
        mode: 'cognito',
        domain: OUTPUTS.signInDomain,
        clientId: OUTPUTS.userPoolClientId,
      });
      const s3 = recorder();
      const cloudfront = recorder(() => ({ Invalidation: { Id: 'I2J0EXAMPLE' } }));
      const id = await uploadWeb({ s3, cloudfront }, OUTPUTS, files, () => new Date(1_800_000_000_000));
      expect(id).toBe('I2J0EXAMPLE');
      const puts = s3.sent.map((c) => (c as PutObjectCommand).input);
      expect(puts.map((p) => [p.Bucket, p.Key, p.CacheControl])).toEqual([
        [OUTPUTS.bucket, 'app.js', 'no-cache'],
        [OUTPUTS.bucket, 'index.html', 'no-cache'],
        [OUTPUTS.bucket, 'config.json', 'no-store'],
      ]);
      expect((cloudfront.sent[0] as CreateInvalidationCommand).input).toEqual({
        DistributionId: 'E2EXAMPLE',
        InvalidationBatch: { CallerReference: 'sesflow-1800000000000', Paths: { Quantity: 1, Items: ['/*'] } },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uploads every file the local server serves', () => {
    const keys = webFiles(OUTPUTS).map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(['index.html', 'app.js', 'session.js', 'charts.js', 'style.css']));
  });
});
