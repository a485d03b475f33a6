import { describe, expect, it } from 'vitest';
import { StandInStartError } from '../errors';
import { JAVA_INSTALL_HINT, requireJava } from './dynamodb-local';

describe('requireJava', () => {
  it('fails with the apt-get command to run when java is missing', () => {
    let err: unknown;
    try {
      requireJava('java-that-does-not-exist-sesflow');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StandInStartError);
    expect((err as Error).message).toContain(JAVA_INSTALL_HINT);
    expect(JAVA_INSTALL_HINT).toBe('apt-get install -y openjdk-17-jre-headless');
  });
});
