import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  checkBuckets,
  checkDynamicPartitioning,
  checkLeastPrivilege,
  checkQueuesHaveDlq,
  checkRolePerFunction,
} from './template-checks';

const lambdaTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const role = (statements: unknown[]) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: lambdaTrust,
    Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
  },
});
const fn = (roleId: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Handler: 'x.handler', Role: { 'Fn::GetAtt': [roleId, 'Arn'] } },
});

describe('checkLeastPrivilege', () => {
  it('accepts scoped actions and Resource "*" for actions without resource-level permissions', () => {
    const t: CfnTemplate = {
      Resources: {
        R: role([
          { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*' },
          { Effect: 'Allow', Action: 'ses:GetAccount', Resource: '*' },
          { Effect: 'Deny', Action: 's3:*', Resource: '*' },
        ]),
      },
    };
    expect(checkLeastPrivilege(t)).toEqual([]);
  });

  it('reports wildcard actions, NotAction, and data actions on Resource "*"', () => {
    const t: CfnTemplate = {
      Resources: {
        R: role([
          { Effect: 'Allow', Action: ['dynamodb:*'], Resource: 'arn:aws:dynamodb:::table/t' },
          { Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' },
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' },
          { Effect: 'Allow', NotAction: 'iam:PassRole', Resource: 'arn:aws:s3:::b' },
        ]),
        K: {
          Type: 'AWS::KMS::Key',
          Properties: {
            KeyPolicy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }] },
          },
        },
      },
    };
    expect(checkLeastPrivilege(t)).toEqual([
      'R/p: wildcard action dynamodb:*',
      'R/p: wildcard action s3:Get*',
      'R/p: sqs:SendMessage on Resource "*"',
      'R/p: Allow with NotAction',
      'K: wildcard action kms:*',
    ]);
  });
});

describe('checkRolePerFunction', () => {
  it('reports shared roles, roles from outside the template and the framework-wide role', () => {
    const t: CfnTemplate = {
      Resources: {
        A: fn('Shared'),
        B: fn('Shared'),
        C: { Type: 'AWS::Lambda::Function', Properties: { Role: 'arn:aws:iam::1:role/x' } },
        Shared: role([]),
        IamRoleLambdaExecution: role([]),
      },
    };
    expect(checkRolePerFunction(t)).toEqual([
      'B: shares role Shared with A',
      'C: role is not a role of this template',
      'the shared IamRoleLambdaExecution role exists',
    ]);
  });

  it('accepts one Lambda-only role per function', () => {
    const t: CfnTemplate = { Resources: { A: fn('RA'), B: fn('RB'), RA: role([]), RB: role([]) } };
    expect(checkRolePerFunction(t)).toEqual([]);
  });
});

describe('checkQueuesHaveDlq', () => {
  it('accepts redrive targets and on-failure destinations as dead-letter queues, and reports a queue without one', () => {
    const t: CfnTemplate = {
      Resources: {
        Work: {
          Type: 'AWS::SQS::Queue',
          Properties: { RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 } },
        },
        Dlq: { Type: 'AWS::SQS::Queue', Properties: {} },
        Failures: { Type: 'AWS::SQS::Queue', Properties: {} },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Failures', 'Arn'] } } } },
        },
        Orphan: { Type: 'AWS::SQS::Queue', Properties: {} },
        External: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            RedrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:elsewhere', maxReceiveCount: 5 },
          },
        },
      },
    };
    expect(checkQueuesHaveDlq(t)).toEqual([
      'Orphan: no dead-letter queue (no redrive policy)',
      'External: dead-letter target "arn:aws:sqs:us-east-1:1:elsewhere" is not a queue of the template',
    ]);
  });
});

describe('checkBuckets', () => {
  it('reports a bucket open to the public, one not encrypted and one on SSE-S3', () => {
    const closed = {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    };
    const kms = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] };
    const s3 = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };
    const t: CfnTemplate = {
      Resources: {
        Good: {
          Type: 'AWS::S3::Bucket',
          Properties: { PublicAccessBlockConfiguration: closed, BucketEncryption: kms },
        },
        Open: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            PublicAccessBlockConfiguration: { ...closed, BlockPublicPolicy: false },
            BucketEncryption: kms,
          },
        },
        Plain: { Type: 'AWS::S3::Bucket', Properties: { PublicAccessBlockConfiguration: closed } },
        SseS3: {
          Type: 'AWS::S3::Bucket',
          Properties: { PublicAccessBlockConfiguration: closed, BucketEncryption: s3 },
        },
      },
    };
    expect(checkBuckets(t)).toEqual([
      'Open: BlockPublicPolicy is not true',
      'Plain: not encrypted',
      'SseS3: encrypted with AES256, not KMS',
    ]);
  });
});

describe('checkDynamicPartitioning', () => {
  it('reports a partitioned stream without an error-type error prefix', () => {
    const t: CfnTemplate = {
      Resources: {
        S: {
          Type: 'AWS::KinesisFirehose::DeliveryStream',
          Properties: {
            ExtendedS3DestinationConfiguration: {
              DynamicPartitioningConfiguration: { Enabled: true },
              Prefix: 'events/dt=!{partitionKeyFromLambda:dt}/',
              ErrorOutputPrefix: 'errors/',
            },
          },
        },
      },
    };
    expect(checkDynamicPartitioning(t)).toEqual([
      'S: dynamic partitioning without an ErrorOutputPrefix naming !{firehose:error-output-type}',
    ]);
  });
});
