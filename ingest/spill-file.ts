import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where the lake writer keeps encoded row groups of partitions it has not finished (see `LakeWriter`). */
export interface SpillSpace {
  /** Appends bytes; returns where they went. */
  append(bytes: Uint8Array): number;
  /** Reads `into.length` bytes at `offset` into `into`. */
  read(offset: number, into: Uint8Array): void;
  /** Bytes appended so far. */
  readonly size: number;
  /** Removes the space and everything in it. */
  close(): void;
}

/**
 * A spill space in one local file, removed on close. Its name starts with `.spill-` and it sits outside `events/`, so
 * no lake reader sees it; a crash leaves it behind (nothing in it is in the lake: a re-run writes those rows again),
 * and `sesflow ingest` removes spill files it finds at start.
 */
export class FsSpillFile implements SpillSpace {
  private readonly fd: number;
  private readonly path: string;
  size = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `.spill-${randomUUID()}`);
    this.fd = openSync(this.path, 'w+');
  }

  append(bytes: Uint8Array): number {
    const at = this.size;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    this.size += bytes.length;
    return at;
  }

  read(offset: number, into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, offset + done);
      if (n === 0) throw new Error(`spill file ended at ${offset + done}, expected ${offset + into.length}`);
      done += n;
    }
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}
