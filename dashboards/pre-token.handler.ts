import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { federatedClaims, parseSamlAllowList, type SamlAllowList } from './federated-claims';

/**
 * Cognito's pre token generation trigger: for a user signed in through the SAML identity provider, the ID token's
 * `cognito:groups` and `custom:tenant` come from the allow-list (`SESFLOW_SAML_ALLOW_LIST`), never straight from the
 * IdP's attributes. A user of the pool itself gets the groups and tenant an administrator set, unchanged.
 */
export function createPreTokenHandler(allow: SamlAllowList) {
  return async (event: PreTokenGenerationTriggerEvent): Promise<PreTokenGenerationTriggerEvent> => {
    const claims = federatedClaims(
      event.request.userAttributes,
      event.request.groupConfiguration?.groupsToOverride ?? [],
      allow,
    );
    if (!claims) return event;
    event.response = {
      claimsOverrideDetails: {
        groupOverrideDetails: { groupsToOverride: claims.groups },
        ...(claims.tenant
          ? { claimsToAddOrOverride: { 'custom:tenant': claims.tenant } }
          : { claimsToSuppress: ['custom:tenant'] }),
      },
    };
    return event;
  };
}

let built: ReturnType<typeof createPreTokenHandler> | null = null;

/** The `preToken` function's entry (serverless.yml: dashboards/pre-token.handler.handler). */
export const handler = (event: PreTokenGenerationTriggerEvent) => {
  built ??= createPreTokenHandler(parseSamlAllowList(process.env.SESFLOW_SAML_ALLOW_LIST));
  return built(event);
};
