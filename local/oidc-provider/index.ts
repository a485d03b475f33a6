export { type OidcTokens, signInWithCode } from './oidc-sign-in';
export type {
  OidcProviderOptions,
  OidcServiceClient,
  OidcUser,
  OidcWebClient,
  RunningOidcProvider,
} from './provider';
export { startOidcProvider } from './provider';
