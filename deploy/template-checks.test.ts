import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  checkBuckets,
  checkDynamicPartitioning,
  checkKmsWriters,
  checkLeastPrivilege,
  checkQueuesHaveDlq,
  checkRedundantDependsOn,
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

describe('checkKmsWriters', () => {
  const key = (statements: unknown[]) => ({
    Type: 'AWS::KMS::Key',
    Properties: { KeyPolicy: { Version: '2012-10-17', Statement: statements } },
  });
  const root = {
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::111122223333:root' },
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: '*',
  };
  const queue = (extra: Record<string, unknown> = {}) => ({
    Type: 'AWS::SQS::Queue',
    Properties: { KmsMasterKeyId: { Ref: 'K' }, ...extra },
  });
  const rule = {
    Type: 'AWS::Events::Rule',
    Properties: {
      Targets: [
        {
          Id: 't',
          Arn: { 'Fn::GetAtt': ['S', 'Arn'] },
          RoleArn: { 'Fn::GetAtt': ['ER', 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DLQ', 'Arn'] } },
        },
      ],
    },
  };
  const stream = {
    Type: 'AWS::Kinesis::Stream',
    Properties: { StreamEncryption: { KeyId: { 'Fn::GetAtt': ['K', 'Arn'] } } },
  };
  const kmsFor = (ids: string[]) => ({
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: ids.map((i) => ({ 'Fn::GetAtt': [i, 'Arn'] })),
  });

  it('reports an EventBridge dead-letter queue whose key policy does not let EventBridge use the key', () => {
    const t: CfnTemplate = {
      Resources: {
        K: key([root]),
        DLQ: queue(),
        S: stream,
        ER: role([
          { Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: { 'Fn::GetAtt': ['S', 'Arn'] } },
          kmsFor(['K']),
        ]),
        Rule: rule,
      },
    };
    expect(checkKmsWriters(t)).toEqual([
      'DLQ (encrypted with K): events.amazonaws.com writes via Rule dead-letter queue but lacks kms:GenerateDataKey, kms:Decrypt',
    ]);
    (t.Resources.K!.Properties!.KeyPolicy as { Statement: unknown[] }).Statement.push({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
    });
    expect(checkKmsWriters(t)).toEqual([]);
  });

  it('reports roles without a grant, alarms on a topic without CloudWatch in the key policy, and a redrive across keys', () => {
    const t: CfnTemplate = {
      Resources: {
        K: key([root]),
        K2: key([root]),
        Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { Ref: 'K' } } },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmActions: [{ Ref: 'Topic' }] } },
        Dlq: { Type: 'AWS::SQS::Queue', Properties: { KmsMasterKeyId: { Ref: 'K2' } } },
        Q: queue({ RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 } }),
        Sender: role([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['Q', 'Arn'] } }]),
        Bucket: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            BucketEncryption: {
              ServerSideEncryptionConfiguration: [
                {
                  ServerSideEncryptionByDefault: {
                    SSEAlgorithm: 'aws:kms',
                    KMSMasterKeyID: { 'Fn::GetAtt': ['K', 'Arn'] },
                  },
                },
              ],
            },
          },
        },
        FirehoseRole: role([kmsFor(['K2'])]),
        Firehose: {
          Type: 'AWS::KinesisFirehose::DeliveryStream',
          Properties: {
            ExtendedS3DestinationConfiguration: {
              BucketARN: { 'Fn::GetAtt': ['Bucket', 'Arn'] },
              RoleARN: { 'Fn::GetAtt': ['FirehoseRole', 'Arn'] },
            },
          },
        },
        Fn: fn('FnRole'),
        FnRole: role([kmsFor(['K'])]),
        Esm: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            FunctionName: { Ref: 'Fn' },
            DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
          },
        },
      },
    };
    expect(checkKmsWriters(t).sort()).toEqual(
      [
        'Bucket (encrypted with K): FirehoseRole writes via Firehose delivery but lacks kms:GenerateDataKey',
        'Dlq (encrypted with K2): redrive from Q, encrypted with K',
        'Dlq (encrypted with K2): FnRole writes via Esm destination but lacks kms:GenerateDataKey, kms:Decrypt',
        'Q (encrypted with K): Sender writes via Sender/p but lacks kms:GenerateDataKey, kms:Decrypt',
        'Topic (encrypted with K): cloudwatch.amazonaws.com writes via Alarm action but lacks kms:GenerateDataKey, kms:Decrypt',
      ].sort(),
    );
  });
});

describe('checkRedundantDependsOn', () => {
  it('reports a DependsOn a GetAtt already implies and accepts one that adds an order', () => {
    const t: CfnTemplate = {
      Resources: {
        R: role([]),
        F: { ...fn('R'), DependsOn: ['R', 'Other'] },
        Other: role([]),
      },
    };
    expect(checkRedundantDependsOn(t)).toEqual(['F: DependsOn R is implied']);
  });
});
