// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, compared as written.
import { beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from '../dashboards/server';
import type { PackagedStack } from './package-stack';
import { runServerless } from './serverless-cli';
import {
  type CfnResource,
  type CfnTemplate,
  functionOf,
  policyStatements,
  referencedLogicalId,
} from './template-checks';

/**
 * Template tests of the dashboards for real users in AWS, run by deploy/template.test.ts on its packaged stack
 * (one `serverless package` per suite: serverless-esbuild builds in the repository's .esbuild folder): the UI from a
 * private bucket through CloudFront (origin access control), the Reports API under the same origin, the local
 * server's security headers from a response-headers policy, Cognito managed login (code + PKCE) with claims users
 * cannot write, and the optional SAML identity provider (the stage's resources resolved with `serverless print`
 * and a metadata URL).
 */
const METADATA_URL = 'https://idp.example.com/saml/metadata.xml';
const SEARCH_METADATA = '<md:EntityDescriptor>corporate</md:EntityDescriptor>';
// Managed CloudFront policies (their ids are the same in every account).
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

let dev: PackagedStack;
let saml: PackagedStack;

const resource = (s: PackagedStack, id: string): CfnResource => {
  const r = s.template.Resources[id];
  if (!r) throw new Error(`resource ${id} is not in the template`);
  return r;
};
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON.
const props = (s: PackagedStack, id: string) => (resource(s, id).Properties ?? {}) as Record<string, any>;
const sub = (v: unknown) => (v as { 'Fn::Sub'?: string })['Fn::Sub'];

/** The stage's own resources (`resources:` of serverless.yml) as `serverless print` resolves them with `params`. */
async function printedResources(stage: string, params: Record<string, string>): Promise<CfnTemplate> {
  const out = await runServerless(
    ['print', '--stage', stage, '--format', 'json', ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`)],
    120_000,
  );
  return (JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { resources: CfnTemplate }).resources;
}

/** Defines the tests; `stack` gives the suite's packaged dev stack once its beforeAll has run. */
export function describeWebHosting(stack: () => PackagedStack): void {
  beforeAll(async () => {
    dev = stack();
    const printed = await printedResources('dev', {
      samlMetadataUrl: METADATA_URL,
      searchSamlMetadata: SEARCH_METADATA,
      searchSamlComplianceGroup: 'SES-Compliance',
    });
    saml = { dir: '', template: printed, createTemplate: { Resources: {} } };
  }, 120_000);

  describe('web hosting (CloudFront, private bucket, same-origin API)', () => {
    it('keeps the UI in a private, encrypted bucket', () => {
      const b = props(dev, 'WebBucket');
      expect(b.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe(
        'AES256',
      );
      expect(b.OwnershipControls.Rules[0].ObjectOwnership).toBe('BucketOwnerEnforced');
    });

    it('reads the bucket through an origin access control that signs every request', () => {
      expect(resource(dev, 'WebOriginAccessControl').Type).toBe('AWS::CloudFront::OriginAccessControl');
      expect(props(dev, 'WebOriginAccessControl').OriginAccessControlConfig).toMatchObject({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      });
    });

    it('lets only this distribution read the bucket (its ARN as the condition), and nothing over plain HTTP', () => {
      expect(referencedLogicalId(props(dev, 'WebBucketPolicy').Bucket)).toBe('WebBucket');
      const statements = policyStatements(dev.template).filter((s) => s.where.startsWith('WebBucketPolicy'));
      const allows = statements.filter((s) => s.statement.Effect === 'Allow').map((s) => s.statement);
      expect(allows).toHaveLength(1);
      const [allow] = allows;
      expect(allow?.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
      expect(allow?.Action).toBe('s3:GetObject');
      const sourceArn = (allow?.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals?.[
        'AWS:SourceArn'
      ];
      expect(sub(sourceArn)).toBe('arn:aws:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}');
      const deny = statements.find((s) => s.statement.Effect === 'Deny')?.statement;
      expect(deny?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    });

    it('serves the UI from the bucket and /v1/* from the HTTP API, HTTPS only, the API never cached', () => {
      const d = props(dev, 'WebDistribution').DistributionConfig;
      expect(d.DefaultRootObject).toBe('index.html');
      const origins = Object.fromEntries(d.Origins.map((o: { Id: string }) => [o.Id, o]));
      expect(referencedLogicalId(origins.web.OriginAccessControlId)).toBe('WebOriginAccessControl');
      expect(origins.web.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
      expect(sub(origins['reports-api'].DomainName)).toBe('${HttpApi}.execute-api.${AWS::Region}.amazonaws.com');
      expect(origins['reports-api'].CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');

      expect(d.DefaultCacheBehavior).toMatchObject({
        TargetOriginId: 'web',
        ViewerProtocolPolicy: 'redirect-to-https',
        CachePolicyId: CACHING_OPTIMIZED,
      });
      expect(referencedLogicalId(d.DefaultCacheBehavior.ResponseHeadersPolicyId)).toBe('WebResponseHeadersPolicy');
      const api = d.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v1/*');
      expect(api).toMatchObject({
        TargetOriginId: 'reports-api',
        ViewerProtocolPolicy: 'https-only',
        CachePolicyId: CACHING_DISABLED,
        OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST,
      });
      expect(api.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']));
      expect(referencedLogicalId(api.ResponseHeadersPolicyId)).toBe('WebResponseHeadersPolicy');
    });

    it("sends the local server's security headers from a response-headers policy", () => {
      const h = props(dev, 'WebResponseHeadersPolicy').ResponseHeadersPolicyConfig.SecurityHeadersConfig;
      const local = securityHeaders('https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com');
      expect(sub(h.ContentSecurityPolicy.ContentSecurityPolicy)).toBe(local['content-security-policy']);
      expect(local['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(h.ContentSecurityPolicy.Override).toBe(true);
      expect(h.ContentTypeOptions).toEqual({ Override: true });
      expect(h.ReferrerPolicy).toEqual({ ReferrerPolicy: local['referrer-policy'], Override: true });
      expect(h.FrameOptions).toEqual({ FrameOption: local['x-frame-options'], Override: true });
      expect(h.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
    });

    it('outputs what the UI upload needs: bucket, distribution, URL, sign-in domain', () => {
      const outputs = dev.template.Outputs ?? {};
      for (const name of ['WebUrl', 'WebBucketName', 'WebDistributionId', 'SignInDomain']) {
        expect(outputs[name], name).toBeDefined();
      }
    });
  });

  describe('sign-in (Cognito managed login, code + PKCE, claims only an administrator sets)', () => {
    it('has a managed login domain with its branding', () => {
      expect(props(dev, 'UserPoolDomain')).toMatchObject({ ManagedLoginVersion: 2 });
      expect(sub(props(dev, 'UserPoolDomain').Domain)).toBe('sesflow-dev-${AWS::AccountId}');
      expect(referencedLogicalId(props(dev, 'ManagedLoginBranding').ClientId)).toBe('UserPoolClient');
    });

    it('lets the app client use the code flow only, as a public client (PKCE), with no implicit flow', () => {
      const c = props(dev, 'UserPoolClient');
      expect(c.AllowedOAuthFlowsUserPoolClient).toBe(true);
      expect(c.AllowedOAuthFlows).toEqual(['code']);
      expect(c.GenerateSecret).toBe(false);
      expect(c.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
      expect(c.EnableTokenRevocation).toBe(true);
      expect(c.AllowedOAuthScopes).not.toContain('aws.cognito.signin.user.admin');
    });

    it('sends the browser back to the stage distribution only (and localhost on dev)', () => {
      const c = props(dev, 'UserPoolClient');
      for (const key of ['CallbackURLs', 'LogoutURLs']) {
        const [condition, whenDev, otherwise] = c[key]['Fn::If'];
        expect(condition).toBe('IsDevStage');
        expect(otherwise.map(sub)).toEqual(['https://${WebDistribution.DomainName}/']);
        expect(whenDev).toContain('http://localhost:8080/');
      }
      expect(dev.template.Conditions?.IsDevStage).toEqual({ 'Fn::Equals': ['dev', 'dev'] });
    });

    it('never lets a user write the tenant claim (WriteAttributes), while the app can read it', () => {
      const c = props(dev, 'UserPoolClient');
      expect(c.WriteAttributes).not.toContain('custom:tenant');
      expect(c.WriteAttributes.filter((a: string) => a.startsWith('custom:') && !a.startsWith('custom:idp_'))).toEqual(
        [],
      );
      expect(c.ReadAttributes).toContain('custom:tenant');
      expect(props(dev, 'ClientGroup').GroupName).toBe('client');
    });

    it('turns SAML attributes into role and tenant in the pre token trigger, invoked by this pool only', () => {
      // Through the function's alias (blue/green).
      expect(functionOf(dev.template, props(dev, 'UserPool').LambdaConfig.PreTokenGeneration)).toBe(
        'PreTokenLambdaFunction',
      );
      const perm = props(dev, 'PreTokenInvokePermission');
      expect(functionOf(dev.template, perm.FunctionName)).toBe('PreTokenLambdaFunction');
      expect(perm.Principal).toBe('cognito-idp.amazonaws.com');
      expect(referencedLogicalId(perm.SourceArn)).toBe('UserPool');
      const env = props(dev, 'PreTokenLambdaFunction').Environment.Variables;
      expect(JSON.parse(env.SESFLOW_SAML_ALLOW_LIST)).toEqual({ groups: {}, tenants: {} });
    });

    it('verifies tokens in the Reports API from the pool issuer and its JWKS URL', () => {
      const env = props(dev, 'ReportsApiLambdaFunction').Environment.Variables;
      expect(sub(env.SESFLOW_JWT_ISSUER)).toBe('https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}');
      expect(sub(env.SESFLOW_JWKS_URL)).toBe(
        'https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}/.well-known/jwks.json',
      );
    });

    it('has no SAML provider unless the stage names a metadata URL', () => {
      expect(resource(dev, 'SamlIdentityProvider').Condition).toBe('HasSamlProvider');
      expect(dev.template.Conditions?.HasSamlProvider).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    });

    it('with a metadata URL: the SAML provider, offered by the app client, mapping only into the allow-listed attributes', () => {
      expect(saml.template.Conditions?.HasSamlProvider).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [METADATA_URL, ''] }] });
      const p = props(saml, 'SamlIdentityProvider');
      expect(p.ProviderType).toBe('SAML');
      expect(p.ProviderDetails.MetadataURL).toBe(METADATA_URL);
      expect(Object.keys(p.AttributeMapping).sort()).toEqual(['custom:idp_groups', 'custom:idp_tenant', 'email']);
      const [condition, withSaml] = props(saml, 'UserPoolClient').SupportedIdentityProviders['Fn::If'];
      expect(condition).toBe('HasSamlProvider');
      expect(withSaml[0]).toBe('COGNITO');
      expect(referencedLogicalId(withSaml[1])).toBe('SamlIdentityProvider');
    });
  });

  describe('OpenSearch Dashboards for compliance (SAML on the search collection)', () => {
    it('has no SAML on the collection unless the stage gives the IdP metadata', () => {
      for (const id of ['SearchSamlConfig', 'SearchDashboardsNetworkPolicy', 'SearchComplianceAccessPolicy']) {
        expect(resource(dev, id).Condition, id).toBe('HasSearchSaml');
      }
      expect(dev.template.Conditions?.HasSearchSaml).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['none', 'none'] }] });
    });

    it('with metadata: the SAML config, the dashboards endpoint reachable, and read access for the compliance group only', () => {
      const config = props(saml, 'SearchSamlConfig');
      expect(config.Type).toBe('saml');
      expect(config.SamlOptions.Metadata).toBe(SEARCH_METADATA);
      expect(config.SamlOptions.GroupAttribute).toBe('http://schemas.xmlsoap.org/claims/Group');
      const network = JSON.parse(props(saml, 'SearchDashboardsNetworkPolicy').Policy);
      expect(network[0].Rules).toEqual([{ ResourceType: 'dashboard', Resource: ['collection/sesflow-dev'] }]);
      const [template, vars] = props(saml, 'SearchComplianceAccessPolicy').Policy['Fn::Sub'];
      expect(vars.Group).toBe('SES-Compliance');
      const policy = JSON.parse(template);
      expect(policy).toHaveLength(1);
      expect(policy[0].Principal).toEqual(['saml/${AWS::AccountId}/sesflow-dev-saml/group/${Group}']);
      const permissions = policy[0].Rules.flatMap((r: { Permission: string[] }) => r.Permission);
      expect(permissions.sort()).toEqual(['aoss:DescribeCollectionItems', 'aoss:DescribeIndex', 'aoss:ReadDocument']);
    });
  });
}
