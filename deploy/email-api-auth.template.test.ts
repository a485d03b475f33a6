import { describe, expect, it } from 'vitest';
import { usePackagedStack } from './packaged-stack.test-support';

// The Email API's OAuth, mutual TLS and throttling in the packaged template (serverless.yml's block "Email API:
// OAuth, mutual TLS, throttling").

const dev = usePackagedStack('dev');
const { res, props } = dev;

describe('Email API OAuth, mutual TLS and throttling (serverless package --stage dev)', () => {
  it('OAuth client credentials: a Cognito resource server with the scopes send and read, and a token endpoint', () => {
    expect(res('EmailApiResourceServer').Type).toBe('AWS::Cognito::UserPoolResourceServer');
    expect(props('EmailApiResourceServer').UserPoolId).toEqual({ Ref: 'UserPool' });
    expect(
      props('EmailApiResourceServer')
        .Scopes.map((s: { ScopeName: string }) => s.ScopeName)
        .sort(),
    ).toEqual(['read', 'send']);
    expect(props('UserPoolDomain').UserPoolId).toEqual({ Ref: 'UserPool' });
    // The function checks the tokens against the same pool.
    expect(props('EmailApiLambdaFunction').Environment.Variables.SESFLOW_OAUTH_USER_POOL_ID).toEqual({
      Ref: 'UserPool',
    });
  });

  it('mutual TLS: a regional custom domain with a truststore in S3, mapped to the HTTP API, when a domain is set', () => {
    const domain = res('EmailApiDomain');
    expect(domain.Type).toBe('AWS::ApiGatewayV2::DomainName');
    expect(domain.Condition).toBe('HasEmailApiDomain');
    expect(props('EmailApiDomain').MutualTlsAuthentication.TruststoreUri).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
      'Fn::Sub': 's3://${EmailApiTruststoreBucket}/truststore.pem',
    });
    expect(props('EmailApiDomain').DomainNameConfigurations[0]).toMatchObject({
      EndpointType: 'REGIONAL',
      SecurityPolicy: 'TLS_1_2',
    });
    expect(res('EmailApiTruststoreBucket').Type).toBe('AWS::S3::Bucket');
    expect(props('EmailApiTruststoreBucket').PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
    expect(props('EmailApiDomainMapping')).toMatchObject({
      ApiId: { Ref: 'HttpApi' },
      DomainName: { Ref: 'EmailApiDomain' },
    });
    expect((dev.stack.template as { Conditions?: Record<string, unknown> }).Conditions?.HasEmailApiDomain).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'EmailApiDomainName' }, ''] }],
    });
  });

  it('throttling: the HTTP API stage limits every route, and a WAF rate rule per client address guards the pool', () => {
    expect(props('HttpApiStage').DefaultRouteSettings).toEqual({ ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 });
    const acl = props('AuthRateLimitAcl');
    expect(res('AuthRateLimitAcl').Type).toBe('AWS::WAFv2::WebACL');
    const rule = acl.Rules[0];
    expect(rule.Statement.RateBasedStatement).toMatchObject({ AggregateKeyType: 'IP' });
    expect(rule.Action.Block.CustomResponse.ResponseCode).toBe(429);
    expect(props('AuthRateLimitUserPool')).toEqual({
      ResourceArn: { 'Fn::GetAtt': ['UserPool', 'Arn'] },
      WebACLArn: { 'Fn::GetAtt': ['AuthRateLimitAcl', 'Arn'] },
    });
  });
});
