import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { LakeObjectVersion, LakeStore, VersionedListing } from './lake-store';

/** A lake in an S3 bucket (fauxqs locally). S3 PUTs are atomic: an object is visible whole or not at all. */
export class S3LakeStore implements LakeStore, VersionedListing {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix = '',
  ) {}

  get location(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body }));
  }

  async get(key: string): Promise<Uint8Array> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    if (!out.Body) throw new Error(`empty object ${key}`);
    return out.Body.transformToByteArray();
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listVersions(prefix)).map((o) => o.key);
  }

  async listVersions(prefix: string): Promise<LakeObjectVersion[]> {
    const out: LakeObjectVersion[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const version = `${o.ETag ?? ''}@${o.LastModified?.toISOString() ?? ''}`;
        out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, version });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }
}
