import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bucketsFromInfo, checkRemovable } from './remove-stage';
import { previousDeployment } from './rollback';
import { DeployError, stageFromArgs } from './serverless-cli';
import { httpApiUrl, runSmokeChecks } from './smoke';

describe('previousDeployment', () => {
  it('picks the deployment before the latest, whatever order serverless lists them in', () => {
    const list = [
      '2026-11-20 10:00:00 UTC',
      'Timestamp: 1795168800000',
      'Files:',
      '  - compiled-cloudformation-template.json',
      '2026-11-25 09:00:00 UTC',
      'Timestamp: 1795597200000',
      'Files:',
      '2026-11-24 09:00:00 UTC',
      'Timestamp: 1795510800000',
    ].join('\n');
    expect(previousDeployment(list)).toBe('1795510800000');
  });

  it('says there is nothing to roll back to after a single deployment', () => {
    expect(previousDeployment('Timestamp: 1795168800000\nFiles:\n')).toBeNull();
    expect(previousDeployment('No deployments found')).toBeNull();
  });
});

describe('stageFromArgs', () => {
  it('accepts the stages of serverless.yml and refuses others with a one-line error', () => {
    expect(stageFromArgs(['--stage', 'staging'])).toBe('staging');
    expect(() => stageFromArgs(['--stage', 'qa'])).toThrow(DeployError);
    expect(() => stageFromArgs([])).toThrow('--stage is required');
  });
});

describe('smoke checks', () => {
  it('reads the HTTP API URL from serverless info --verbose', () => {
    const info =
      'Stack Outputs:\n  TableName: sesflow-staging\n  HttpApiUrl: https://abc123.execute-api.us-east-1.amazonaws.com\n';
    expect(httpApiUrl(info)).toBe('https://abc123.execute-api.us-east-1.amazonaws.com');
    expect(httpApiUrl('Stack Outputs:\n  TableName: x\n')).toBeNull();
  });

  it('passes a deployment that answers as expected and names every check a broken one fails', async () => {
    let healthy = true;
    const server = createServer((req, res) => {
      if (req.url === '/v1/health') res.statusCode = healthy ? 200 : 503;
      else res.statusCode = healthy ? 401 : 200;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await runSmokeChecks(base)).toEqual([]);
      healthy = false;
      const failures = await runSmokeChecks(base);
      expect(failures).toHaveLength(3);
      expect(failures[0]).toBe('health check answers: GET /v1/health answered 503, not 200');
    } finally {
      server.close();
    }
  });
});

describe('remove', () => {
  it('reads the bucket names from serverless info and refuses prod in one line', () => {
    const info =
      'Stack Outputs:\n  LakeBucketName: sesflow-dev-lake-1-us-east-1\n  TableName: sesflow-dev\n  AthenaResultsBucketName: sesflow-dev-athena-results-1-us-east-1\n';
    expect(bucketsFromInfo(info)).toEqual(['sesflow-dev-lake-1-us-east-1', 'sesflow-dev-athena-results-1-us-east-1']);
    expect(() => checkRemovable('dev')).not.toThrow();
    expect(() => checkRemovable('prod')).toThrow('prod is not removed by this script');
  });
});
