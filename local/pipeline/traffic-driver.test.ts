import { type SESv2Client, type SendEmailCommand, SendingPausedException } from '@aws-sdk/client-sesv2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTrafficModel, defaultTenants, MessagePlanner, SeededRandom } from '../traffic-model';
import { startTrafficDriver } from './traffic-driver';

afterEach(() => {
  vi.useRealTimers();
});

describe('startTrafficDriver', () => {
  it('sends at the configured rate with tenant, campaign and kind tags, and counts sends refused for a paused tenant', async () => {
    vi.useFakeTimers();
    const inputs: SendEmailCommand['input'][] = [];
    const ses = {
      send: async (cmd: SendEmailCommand) => {
        inputs.push(cmd.input);
        if (cmd.input.TenantName === 'umbrella') {
          throw new SendingPausedException({ message: 'paused', $metadata: {} });
        }
        return { MessageId: 'x' };
      },
    } as unknown as SESv2Client;
    const planner = new MessagePlanner(defaultTenants(5), createTrafficModel(), new SeededRandom(3));
    const problems: string[] = [];
    const driver = startTrafficDriver({ ses, planner, ratePerSecond: 20, onProblem: (l) => problems.push(l) });
    await vi.advanceTimersByTimeAsync(10_000);
    await driver.stop();
    expect(inputs).toHaveLength(200);
    const paused = inputs.filter((i) => i.TenantName === 'umbrella').length;
    expect(paused).toBeGreaterThan(0);
    expect(driver.stats).toEqual({ sent: 200 - paused, refusedPaused: paused, throttled: 0, failed: 0 });
    expect(problems).toEqual(['traffic: sending is paused for tenant umbrella; its messages are refused']);
    for (const i of inputs) {
      const tags = Object.fromEntries((i.EmailTags ?? []).map((t) => [t.Name, t.Value]));
      expect(tags.tenant).toBe(i.TenantName);
      expect(i.ConfigurationSetName).toBe(`${i.TenantName}-events`);
      expect(['transactional', 'marketing']).toContain(tags.message_kind);
      expect(tags.campaign).toMatch(/^[a-z-]+$/);
    }
  });
});
