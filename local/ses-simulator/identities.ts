import { createHash } from 'node:crypto';
import { SesApiError } from './errors';
import type { IdentityState, SimulatorState } from './state';

/**
 * How SES sees a domain identity's DNS set-up, which the simulator cannot find out itself (SES looks the records up;
 * the simulator is told): DKIM and MAIL FROM statuses, and whether the domain is verified for sending.
 */
export interface IdentityStatus {
  verifiedForSending?: boolean;
  /** SUCCESS (default), PENDING, FAILED, TEMPORARY_FAILURE, NOT_STARTED. */
  dkim?: string;
  /** SUCCESS (default), PENDING, FAILED, TEMPORARY_FAILURE. */
  mailFrom?: string;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Easy DKIM's three 32-character tokens, derived from the account and domain so a restart gives the same ones. */
export function dkimTokens(accountId: string, domain: string): string[] {
  return [0, 1, 2].map((i) => {
    const h = createHash('sha256').update(`${accountId}:${domain}:${i}`).digest();
    let out = '';
    for (let j = 0; j < 32; j++) out += BASE32[h[j]! % 32];
    return out;
  });
}

/**
 * The email identities of the simulated account (domains only): CreateEmailIdentity, GetEmailIdentity,
 * PutEmailIdentityMailFromAttributes, in the simulator's saved state.
 */
export class EmailIdentities {
  constructor(
    private readonly state: SimulatorState,
    private readonly accountId: string,
    private readonly statusOf: (domain: string) => IdentityStatus | undefined,
    private readonly now: () => number,
    private readonly changed: () => void,
  ) {}

  private get(name: string): IdentityState {
    const id = this.state.identities[name.toLowerCase()];
    if (!id) throw new SesApiError('NotFoundException', `Email identity <${name}> does not exist.`);
    return id;
  }

  create(name: string): Record<string, unknown> {
    const domain = name.toLowerCase();
    if (domain.includes('@')) {
      throw new SesApiError('BadRequestException', 'The SES simulator supports domain identities only.');
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain)) {
      throw new SesApiError('BadRequestException', `Invalid domain name <${name}>.`);
    }
    if (this.state.identities[domain]) {
      throw new SesApiError('AlreadyExistsException', `Email identity <${name}> already exists.`);
    }
    this.state.identities[domain] = {
      name: domain,
      createdAt: this.now(),
      dkimSigningEnabled: true,
      dkimTokens: dkimTokens(this.accountId, domain),
      mailFromDomain: null,
      behaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    };
    this.changed();
    const view = this.view(domain);
    return {
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: view.VerifiedForSendingStatus,
      DkimAttributes: view.DkimAttributes,
    };
  }

  putMailFrom(name: string, mailFromDomain: string | undefined, behaviorOnMxFailure: string | undefined): void {
    const id = this.get(name);
    const mf = mailFromDomain?.toLowerCase() || null;
    if (mf && !mf.endsWith(`.${id.name}`)) {
      throw new SesApiError('BadRequestException', `MAIL FROM domain <${mf}> must be a subdomain of <${id.name}>.`);
    }
    id.mailFromDomain = mf;
    if (behaviorOnMxFailure) id.behaviorOnMxFailure = behaviorOnMxFailure;
    this.changed();
  }

  view(name: string): Record<string, unknown> & { VerifiedForSendingStatus: boolean; DkimAttributes: unknown } {
    const id = this.get(name);
    const s = this.statusOf(id.name) ?? {};
    return {
      IdentityType: 'DOMAIN',
      FeedbackForwardingStatus: true,
      VerifiedForSendingStatus: s.verifiedForSending ?? true,
      DkimAttributes: {
        SigningEnabled: id.dkimSigningEnabled,
        Status: s.dkim ?? 'SUCCESS',
        Tokens: id.dkimTokens,
        SigningAttributesOrigin: 'AWS_SES',
        NextSigningKeyLength: 'RSA_2048_BIT',
        CurrentSigningKeyLength: 'RSA_2048_BIT',
        LastKeyGenerationTimestamp: id.createdAt / 1000,
      },
      MailFromAttributes: {
        MailFromDomain: id.mailFromDomain ?? '',
        MailFromDomainStatus: id.mailFromDomain ? (s.mailFrom ?? 'SUCCESS') : 'FAILED',
        BehaviorOnMxFailure: id.behaviorOnMxFailure,
      },
      Policies: {},
      Tags: [],
      VerificationStatus: (s.verifiedForSending ?? true) ? 'SUCCESS' : 'PENDING',
    };
  }
}
