import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ErasureStoreError } from './errors';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';
import { holdsAddress, scrubText } from './request';

type Item = Record<string, unknown>;

/** A value with every form of the address in its strings replaced (maps, lists and string sets walked). */
export function scrubValue(v: unknown, address: string, replacement: string): unknown {
  if (typeof v === 'string') return holdsAddress(v, address) ? scrubText(v, address, replacement) : v;
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, address, replacement));
  if (v instanceof Set) return new Set([...v].map((x) => scrubValue(x, address, replacement)));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubValue(x, address, replacement)]));
  }
  return v;
}

/** Whether an item holds the address anywhere (any attribute, any depth, any case, plain or URL-encoded). */
function itemHolds(item: Item, address: string): boolean {
  return holdsAddress(
    JSON.stringify(item, (_k, v) => (v instanceof Set ? [...v] : v)),
    address,
  );
}

const isRecordState = (item: Item) => typeof item.sk === 'string' && item.sk.startsWith('REPORT#');

/**
 * The single DynamoDB table (lib/table-design.ts): every item holding the address, found by a scan (erasure requests
 * are rare; a scan finds what no key leads to, such as a bulk job's per-entry outcomes).
 * - Push record states (`MSG#<id>` / `REPORT#<record>`): deleted. They exist only to build the records sent to
 *   External Reporting, where the same records are deleted; a late event of the message starts a new state.
 * - Message items, bulk job chunks and anything else: written again with the address replaced by its pseudonym,
 *   so the job's counters and outcomes stay as they were. An item whose key holds the address (none by design) is
 *   deleted.
 * Items of other tenants are left alone when the request names a tenant (an item with no tenant is scrubbed).
 * The record states found also tell External Reporting which records to delete.
 */
export class DynamoDbEraser implements ErasureTarget {
  readonly store = 'DynamoDB (push record states, message items, job outcomes)';
  private found: Item[] = [];

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async discover(ctx: ErasureContext): Promise<void> {
    const { address, tenant } = ctx.request;
    this.found = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
        );
        for (const item of page.Items ?? []) {
          if (!itemHolds(item, address)) continue;
          if (tenant && typeof item.tenantId === 'string' && item.tenantId !== tenant) continue;
          this.found.push(item);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw new ErasureStoreError(`could not scan the DynamoDB table ${this.tableName}`, { cause: err });
    }
    for (const item of this.found.filter(isRecordState)) {
      try {
        const record = JSON.parse(String(item.record)) as { message_id?: unknown; recipient?: unknown };
        if (typeof record.message_id !== 'string' || typeof record.recipient !== 'string') continue;
        const set = ctx.subjects.messages.get(record.message_id) ?? new Set<string>();
        set.add(record.recipient);
        ctx.subjects.messages.set(record.message_id, set);
      } catch {
        // A state that is not JSON names no record: it is deleted all the same.
      }
    }
  }

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const { address } = ctx.request;
    const replacement = ctx.pseudonyms.text(address);
    const states = this.found.filter(isRecordState);
    const others = this.found.filter((i) => !isRecordState(i));
    const items = this.found.map((i) => `${String(i.pk).replace(/#.*/, '#…')} / ${String(i.sk).replace(/#.*/, '#…')}`);
    if (!ctx.dryRun) {
      try {
        for (const item of this.found) {
          const key = { pk: item.pk, sk: item.sk };
          if (isRecordState(item) || itemHolds(key, address)) {
            await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
          } else {
            await this.doc.send(
              new PutCommand({ TableName: this.tableName, Item: scrubValue(item, address, replacement) as Item }),
            );
          }
        }
      } catch (err) {
        throw new ErasureStoreError(`could not erase items of the DynamoDB table ${this.tableName}`, { cause: err });
      }
    }
    return {
      store: this.store,
      found: this.found.length,
      changed: ctx.dryRun ? 0 : this.found.length,
      action:
        this.found.length === 0
          ? 'nothing holds the address'
          : `${ctx.dryRun ? 'would delete' : 'deleted'} ${states.length} push record states, ${ctx.dryRun ? 'would replace' : 'replaced'} the address in ${others.length} other items`,
      items,
    };
  }
}
