import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../lib/table-design';
import { ErasureStoreError } from './errors';
import type { ErasureAudit, ErasureReport } from './ports';

/** The tenant an erasure of every tenant is audited under (tenant ids never start with `_`). */
export const ALL_TENANTS_AUDIT = '_all';

/**
 * The erasure's audit entry in the single table, beside the registry's (`TENANT#<id>` / `AUDIT#<iso>#<id>`, gsi1
 * `AUDIT`): action `erase-recipient` (or `erase-recipient-dry-run`), who, why, the keyed digest of the address (never
 * the address) and, per store, what was found and changed.
 */
export class DynamoDbErasureAudit implements ErasureAudit {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(report: ErasureReport): Promise<void> {
    const tenantId = report.tenant ?? ALL_TENANTS_AUDIT;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.audit(tenantId, report.at, report.id),
            gsi1pk: 'AUDIT',
            gsi1sk: report.at,
            tenantId,
            at: report.at,
            id: report.id,
            action: report.dryRun ? 'erase-recipient-dry-run' : 'erase-recipient',
            actor: report.requestedBy,
            reason: report.reason,
            addressDigest: report.addressDigest,
            complete: report.complete,
            stores: report.stores.map((s) => ({
              store: s.store,
              found: s.found,
              changed: s.changed,
              action: s.action,
            })),
          },
        }),
      );
    } catch (err) {
      throw new ErasureStoreError(`could not write the erasure's audit entry to ${this.tableName}`, { cause: err });
    }
  }
}
