import { describe, expect, it } from 'vitest';
import { CreateRateLimit } from '../../../src/emulator/rate-limit.js';

describe('the emulator create rate limit (a token bucket of one second)', () => {
  it('takes as many creates as the rate at once, then says how long until the next token', () => {
    const limit = new CreateRateLimit();
    expect(limit.take('runway', 2, 0)).toBeUndefined();
    expect(limit.take('runway', 2, 0)).toBeUndefined();
    expect(limit.take('runway', 2, 0)).toBe(500);
    expect(limit.take('runway', 2, 500)).toBeUndefined();
  });

  it('keeps providers apart and forgets everything on clear', () => {
    const limit = new CreateRateLimit();
    expect(limit.take('runway', 1, 0)).toBeUndefined();
    expect(limit.take('cometapi', 1, 0)).toBeUndefined();
    expect(limit.take('runway', 1, 0)).toBe(1000);
    limit.clear();
    expect(limit.take('runway', 1, 0)).toBeUndefined();
  });
});
