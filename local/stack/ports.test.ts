import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { preferredOrFreePort } from './ports';

describe('preferredOrFreePort', () => {
  it('keeps a free preferred port and falls back to another one when it is busy', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as { port: number }).port;
    try {
      const other = await preferredOrFreePort(taken);
      expect(other).not.toBe(taken);
      expect(other).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
    expect(await preferredOrFreePort(taken)).toBe(taken);
  });
});
