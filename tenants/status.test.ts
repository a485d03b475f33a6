import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from './errors';
import { checkTransition, TENANT_STATES, TRANSITIONS } from './status';

describe('tenant transition table', () => {
  it('lets each actor make only its own moves, from the states the table names', () => {
    expect(checkTransition('t', 'auto-pause', 'warning').to).toBe('paused');
    expect(checkTransition('t', 'pause', 'active')).toMatchObject({ by: 'compliance', to: 'paused' });
    expect(checkTransition('t', 'resume', 'paused')).toMatchObject({ by: 'compliance', to: 'active' });
    expect(checkTransition('t', 'unsuspend', 'suspended')).toMatchObject({ by: 'operator', to: 'active' });
    expect(() => checkTransition('t', 'pause', 'paused')).toThrow('tenant t is already paused');
    expect(() => checkTransition('t', 'resume', 'active')).toThrow('tenant t is not paused');
    expect(() => checkTransition('t', 'unsuspend', 'active')).toThrow('tenant t is not suspended');
    expect(() => checkTransition('t', 'auto-pause', 'suspended')).toThrow(TransitionRefusedError);
  });

  it('never lets a compliance resume lift a suspension', () => {
    expect(() => checkTransition('t', 'resume', 'suspended')).toThrow(/only an operator lifts a suspension/);
  });

  it('names only known states, and every state can be left', () => {
    for (const t of Object.values(TRANSITIONS)) {
      for (const s of [...t.from, t.to]) expect(TENANT_STATES).toContain(s);
    }
    for (const s of TENANT_STATES) {
      expect(Object.values(TRANSITIONS).some((t) => (t.from as readonly string[]).includes(s) && t.to !== s)).toBe(
        true,
      );
    }
  });
});
