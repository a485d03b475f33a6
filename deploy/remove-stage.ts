import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DeployError, runServerless, type Stage, stageFromArgs } from './serverless-cli';

/** The stack outputs that name the stage's buckets (serverless.yml Outputs). */
export const BUCKET_OUTPUTS = ['LakeBucketName', 'SearchBackupBucketName', 'AthenaResultsBucketName'] as const;

/** The bucket names in `serverless info --verbose` output, by output name (missing outputs are left out). */
export function bucketsFromInfo(infoOutput: string): string[] {
  return BUCKET_OUTPUTS.map((name) => new RegExp(`^\\s*${name}: (\\S+)$`, 'm').exec(infoOutput)?.[1]).filter(
    (b): b is string => Boolean(b),
  );
}

/** Only dev and staging may be removed this way; prod keeps its data (retainData: Retain) and is removed by hand. */
export function checkRemovable(stage: Stage): void {
  if (stage === 'prod')
    throw new DeployError('prod is not removed by this script: its data is kept (docs/OPERATIONS.md)');
}

/** Deletes every version and delete marker of a versioned bucket (CloudFormation deletes only empty buckets). */
export async function emptyBucket(s3: S3Client, bucket: string): Promise<number> {
  let deleted = 0;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    for (let i = 0; i < objects.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000), Quiet: true } }),
      );
    }
    deleted += objects.length;
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return deleted;
}

/**
 * `npm run remove -- --stage dev`: empties the stage's buckets (every version), then `serverless remove`. The table
 * of dev has no deletion protection; staging's has (switch it off first). Refuses prod.
 */
async function main(argv: string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  checkRemovable(stage);
  const info = await runServerless(['info', '--stage', stage, '--verbose'], 120_000);
  const s3 = new S3Client({ region: process.env.AWS_REGION ?? 'us-east-1' });
  for (const bucket of bucketsFromInfo(info)) {
    process.stdout.write(`remove: emptied ${bucket} (${await emptyBucket(s3, bucket)} objects and versions)\n`);
  }
  s3.destroy();
  await runServerless(['remove', '--stage', stage]);
  process.stdout.write(`remove: stage ${stage} removed\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`remove: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
