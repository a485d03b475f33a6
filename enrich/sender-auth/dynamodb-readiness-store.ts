import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { GSI1, keys } from '../../lib/table-design';
import { ReadinessConflictError, SenderAuthError } from './errors';
import { VERDICTS } from './evaluator';
import type { ReadinessStore, StoredReadiness } from './ports';

/** The stored item, checked loosely: its own shape, written by this store only. */
const ItemSchema = z.looseObject({
  tenantId: z.string(),
  verdict: z.enum(VERDICTS),
  reasons: z.array(z.string()),
  checkedAt: z.string(),
  changedAt: z.string(),
  readiness: z.string(),
});

function fromItem(item: Record<string, unknown> | undefined): StoredReadiness | null {
  const parsed = ItemSchema.safeParse(item);
  if (!parsed.success) return null;
  // The whole result is kept as one JSON string: its nested lists of checks need no DynamoDB types.
  return JSON.parse(parsed.data.readiness) as StoredReadiness;
}

/**
 * Sender readiness in the single table (lib/table-design.ts): one item per tenant, `TENANT#<id>` / `SENDER_AUTH`,
 * listed through gsi1 `SENDER_AUTH`. A change of verdict or reasons is written with an audit entry of the shape every
 * area writes (`AUDIT#<iso>#<uuid>`, action `sender-auth`), in one transaction conditioned on the item being the one
 * read, so two checks at once cannot both audit the same change.
 */
export class DynamoDbReadinessStore implements ReadinessStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string): Promise<StoredReadiness | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.senderAuth(tenantId), ConsistentRead: true }),
    );
    return fromItem(out.Item);
  }

  async list(): Promise<StoredReadiness[]> {
    const out: StoredReadiness[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': 'SENDER_AUTH' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const r = fromItem(item);
        if (r) out.push(r);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async save(
    next: StoredReadiness,
    previous: StoredReadiness | null,
    audit: { actor: string; state: string } | null,
  ): Promise<void> {
    const item = {
      ...keys.senderAuth(next.tenantId),
      gsi1pk: 'SENDER_AUTH',
      gsi1sk: next.tenantId,
      tenantId: next.tenantId,
      verdict: next.verdict,
      reasons: next.reasons,
      checkedAt: next.checkedAt,
      changedAt: next.changedAt,
      readiness: JSON.stringify(next),
    };
    const put = {
      Put: {
        TableName: this.tableName,
        Item: item,
        ...(previous
          ? {
              ConditionExpression: 'checkedAt = :prev',
              ExpressionAttributeValues: { ':prev': previous.checkedAt },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      },
    };
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [put];
    if (audit) {
      const id = randomUUID();
      const at = next.checkedAt;
      const from = previous ? previous.verdict : 'not checked';
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.audit(next.tenantId, at, id),
            gsi1pk: 'AUDIT',
            gsi1sk: at,
            tenantId: next.tenantId,
            at,
            id,
            action: 'sender-auth',
            actor: audit.actor,
            reason:
              `sender readiness ${from} -> ${next.verdict}${next.reasons.length ? `: ${next.reasons.join('; ')}` : ''}`.slice(
                0,
                2000,
              ),
            fromState: audit.state,
            toState: audit.state,
          },
        },
      });
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        throw new ReadinessConflictError(`another check of tenant ${next.tenantId} was saved meanwhile`, {
          cause: err,
        });
      }
      throw new SenderAuthError(`could not save the readiness of tenant ${next.tenantId}`, { cause: err });
    }
  }
}
