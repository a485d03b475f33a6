import { describe, expect, it } from 'vitest';
import { federatedClaims, parseSamlAllowList } from './federated-claims';
import { createPreTokenHandler } from './pre-token.handler';

const ALLOW = parseSamlAllowList(
  JSON.stringify({
    groups: { 'SES-Compliance': 'compliance', 'SES-Clients': 'client' },
    tenants: { 'ACME Corp': 'acme' },
  }),
);
const federated = (extra: Record<string, string>) => ({
  identities: '[{"providerName":"corporate","providerType":"SAML"}]',
  ...extra,
});

describe('SAML attributes through the allow-list', () => {
  it('maps an allowed IdP group and tenant to a role and a tenant', () => {
    expect(
      federatedClaims(
        federated({ 'custom:idp_groups': '[SES-Clients, Staff]', 'custom:idp_tenant': 'ACME Corp' }),
        [],
        ALLOW,
      ),
    ).toEqual({ groups: ['client'], tenant: 'acme' });
    expect(federatedClaims(federated({ 'custom:idp_groups': 'Staff,SES-Compliance' }), [], ALLOW)).toEqual({
      groups: ['compliance'],
      tenant: null,
    });
  });

  it('grants nothing for values not on the list, whatever the IdP sends', () => {
    expect(
      federatedClaims(federated({ 'custom:idp_groups': 'compliance', 'custom:idp_tenant': 'globex' }), [], ALLOW),
    ).toEqual({ groups: [], tenant: null });
  });

  it("keeps an administrator's group and tenant over the IdP's, and leaves pool users alone", () => {
    expect(
      federatedClaims(
        federated({ 'custom:idp_groups': 'SES-Clients', 'custom:idp_tenant': 'ACME Corp', 'custom:tenant': 'initech' }),
        ['client'],
        ALLOW,
      ),
    ).toEqual({ groups: ['client'], tenant: 'initech' });
    expect(federatedClaims({ 'custom:idp_groups': 'SES-Compliance' }, [], ALLOW)).toBeNull();
  });

  it('refuses a malformed allow-list with one line naming the variable', () => {
    expect(() => parseSamlAllowList('{')).toThrow('SESFLOW_SAML_ALLOW_LIST is not JSON');
    expect(() => parseSamlAllowList('{"groups":{"x":"admin"}}')).toThrow(/^SESFLOW_SAML_ALLOW_LIST: groups\.x /);
  });

  it('the trigger overrides the groups and the tenant claim for a federated user, and suppresses a tenant not allowed', async () => {
    const handler = createPreTokenHandler(ALLOW);
    const event = (attrs: Record<string, string>) =>
      ({
        request: { userAttributes: attrs, groupConfiguration: { groupsToOverride: [] } },
        response: {},
      }) as never;
    const allowed = await handler(
      event(federated({ 'custom:idp_groups': 'SES-Clients', 'custom:idp_tenant': 'ACME Corp' })),
    );
    expect(allowed.response.claimsOverrideDetails).toEqual({
      groupOverrideDetails: { groupsToOverride: ['client'] },
      claimsToAddOrOverride: { 'custom:tenant': 'acme' },
    });
    const other = await handler(event(federated({ 'custom:idp_tenant': 'Globex' })));
    expect(other.response.claimsOverrideDetails).toEqual({
      groupOverrideDetails: { groupsToOverride: [] },
      claimsToSuppress: ['custom:tenant'],
    });
    const pool = await handler(event({ 'custom:tenant': 'acme' }));
    expect(pool.response).toEqual({});
  });
});
