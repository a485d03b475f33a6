/**
 * The send area's contracts: what the sender, the Email API and the bulk worker share. The registry
 * (send/registry.ts) stores tenants and keys in the single table (lib/table-design.ts); the sender
 * (send/sender.ts) calls SESv2 through the gate and the rate limiter; the Email API (send/api/) and the SQS bulk
 * worker (send/bulk-worker.ts) call the sender.
 */

/** A tenant's profile item (`TENANT#<id>` / `PROFILE`): tenants/ports.ts. The status fields are the send gate's input. */
export type { TenantProfile } from '../tenants/ports';
export type { TenantStatus } from '../tenants/status';

/** What a caller of the Email API may do: a key is scoped to one tenant. */
export interface ApiKeyScope {
  tenantId: string;
  keyId: string;
}

export interface SendMessage {
  tenantId: string;
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  html?: string;
  text?: string;
  /** EmailTag `campaign` (letters, digits, `_`, `-`). */
  campaign?: string;
  /** EmailTag `message_kind` (e.g. `transactional`, `marketing`). */
  messageKind?: string;
}

export interface SendOutcome {
  /** SES's message id; empty when every recipient was suppressed (nothing was sent). */
  messageId: string;
  /** Recipients skipped because they are on the suppression list (not sent). */
  suppressed: string[];
}

/** One destination of a bulk send (SendBulkEmail takes up to 50 per call; the sender splits larger lists). */
export interface BulkDestination {
  to: string;
  /** Template replacement data as a JSON object. */
  replacements?: Record<string, string>;
}

export interface BulkSend {
  tenantId: string;
  from: string;
  subject: string;
  html?: string;
  text?: string;
  campaign?: string;
  messageKind?: string;
  destinations: BulkDestination[];
}

/** Per-destination outcome: the bulk call succeeds even when entries fail. */
export interface BulkEntryOutcome {
  to: string;
  status: 'sent' | 'suppressed' | 'failed';
  messageId?: string;
  /** SES's entry status (e.g. `ACCOUNT_SENDING_PAUSED`) or a reason, when not sent. */
  error?: string;
  /** Whether retrying the entry later may succeed (throttling, transient failure). */
  retryable?: boolean;
}

export interface MessageStatus {
  messageId: string;
  tenantId: string;
  status: string;
  updatedAt: string;
}

export interface Sender {
  send(message: SendMessage): Promise<SendOutcome>;
  sendBulk(job: BulkSend): Promise<BulkEntryOutcome[]>;
  /**
   * The checks a send makes before SES (the tenant is known and may send now, the from domain is the tenant's),
   * without sending: a batch is refused at submission, as one message is, rather than failing entry by entry.
   */
  assertMaySend?(tenantId: string, from: string): Promise<void>;
}
