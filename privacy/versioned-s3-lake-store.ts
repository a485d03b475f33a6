import { DeleteObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3LakeStore } from '../ingest/s3-lake-store';

/**
 * The lake bucket as an erasure writes it: the bucket keeps versions (serverless.yml), so the object an erasure
 * replaces would stay as a noncurrent version, address and all, until the lifecycle rule expires it. After each
 * put, every other version of the key (and delete marker) is deleted, so nothing of the old object is left; after a
 * delete (an older rollup build, replaced by one built from the rewritten events), every version of the key is.
 */
export class VersionedS3LakeStore extends S3LakeStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {
    super(client, bucketName);
  }

  override async put(key: string, body: Uint8Array | string): Promise<void> {
    await super.put(key, body);
    await this.purgeOldVersions(key);
  }

  override async delete(key: string): Promise<void> {
    await super.delete(key);
    await this.purgeOldVersions(key);
  }

  /** Deletes every version of `key` but the latest (after a delete: the delete marker). */
  async purgeOldVersions(key: string): Promise<number> {
    let purged = 0;
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucketName,
          Prefix: key,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (v.Key !== key || v.IsLatest || !v.VersionId) continue;
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName, Key: key, VersionId: v.VersionId }));
        purged++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return purged;
  }
}
