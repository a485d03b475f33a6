import { describe, expect, it } from 'vitest';
import { ROLLUP_TABLES } from '../ingest/rollups';
import { rollupKey } from '../ingest/rollups-writer';
import { ROLLUP_HIVE_TYPES, rollupTableName } from '../queries/athena/ddl';
import { usePackagedStack } from './packaged-stack.test-support';
import { referencedLogicalId } from './template-checks';

/**
 * The rollups in the template (stage dev): a Glue table per rollup table of ingest/rollups.ts, over the folders the
 * writer writes, projected on dt like the events table; the compaction function may write and delete them, and so
 * may the erasure function (it rebuilds the days it rewrote); lifecycle keeps them longer than raw events.
 */
const dev = usePackagedStack('dev');

/** CloudFormation properties, free-form (any is allowed in tests). */
type Any = any;

/** The Glue table resource of a rollup table (by its Glue name). */
function glueTable(name: string): Any {
  const found = Object.entries(dev.stack.template.Resources).filter(
    ([, r]) => r.Type === 'AWS::Glue::Table' && (r.Properties as Any)?.TableInput?.Name === name,
  );
  expect(
    found.map(([id]) => id),
    name,
  ).toHaveLength(1);
  return found[0]![1].Properties as Any;
}

/** A Fn::Join of strings and a Ref, as text with the Ref as `<Id>`. */
const joined = (v: Any): string =>
  (v['Fn::Join'][1] as Any[]).map((p) => (typeof p === 'string' ? p : `<${referencedLogicalId(p)}>`)).join('');

/** A role's statements. */
const statementsOf = (role: string): { Action: string[]; Resource: unknown; Condition?: Any }[] =>
  dev.props(role).Policies[0].PolicyDocument.Statement;

describe('rollups in the template (stage dev)', () => {
  it('declares a Glue table per rollup table: its columns in file order, Parquet, dt projected where the writer writes', () => {
    for (const t of ROLLUP_TABLES) {
      const p = glueTable(rollupTableName(t.name));
      expect(referencedLogicalId(p.DatabaseName)).toBe('GlueDatabase');
      const input = p.TableInput;
      expect(input.TableType).toBe('EXTERNAL_TABLE');
      const cols = input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type]);
      expect(cols, t.name).toEqual(t.columns.map(([n, ty]) => [n, ROLLUP_HIVE_TYPES[ty]]));
      expect(input.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toContain('ParquetHiveSerDe');
      expect(input.StorageDescriptor.InputFormat).toContain('MapredParquetInputFormat');
      const params = input.Parameters;
      expect(params).toMatchObject({
        classification: 'parquet',
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
      });
      expect(params['projection.dt.range']).toMatch(/^\d{4}-\d{2}-\d{2},NOW$/);
      // The template's folder for a day is the folder of the key the writer writes for that day.
      const key = rollupKey(t.name, '2026-03-10', 'b.parquet');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the projection template's own variable
      const folder = joined(params['storage.location.template']).replace('${dt}', '2026-03-10');
      expect(folder).toBe(`s3://<LakeBucket>/${key.slice(0, key.lastIndexOf('/') + 1)}`);
    }
  });

  it('lets the compaction function list, write and delete rollups, and the erasure function rewrite them', () => {
    const compact = statementsOf('CompactLakeRole');
    const list = compact.find((s) => s.Action.includes('s3:ListBucket'))!;
    expect(list.Condition.StringLike['s3:prefix']).toEqual(['events/*', 'rollups/*']);
    const writes = compact.find((s) => s.Action.includes('s3:PutObject'))!;
    expect(writes.Action).toEqual(expect.arrayContaining(['s3:GetObject', 's3:DeleteObject']));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
    expect(writes.Resource).toContainEqual({ 'Fn::Sub': '${LakeBucket.Arn}/rollups/*' });
    const erase = statementsOf('EraseRecipientRole').find(
      (s) => s.Action.includes('s3:DeleteObjectVersion') && JSON.stringify(s.Resource).includes('LakeBucket'),
    )!;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
    expect(erase.Resource).toContainEqual({ 'Fn::Sub': '${LakeBucket.Arn}/rollups/*' });
  });

  it('keeps rollups longer than raw events (lifecycle rules per prefix)', () => {
    const rules = dev.props('LakeBucket').LifecycleConfiguration.Rules as Any[];
    const expiry = (prefix: string) => rules.find((r) => r.Prefix === prefix && r.ExpirationInDays)?.ExpirationInDays;
    expect(Number(expiry('rollups/'))).toBeGreaterThan(Number(expiry('events/')));
  });
});
