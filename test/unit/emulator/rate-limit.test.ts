import { describe, expect, it } from 'vitest';
import { CreateRateLimiter } from '../../../src/emulator/rate-limit.js';

describe('emulator create rate limit', () => {
  it('accepts max creates in any window, then answers with the seconds until one frees', () => {
    const limiter = new CreateRateLimiter();
    const limit = { max: 2, windowMs: 1_000 };
    expect(limiter.take(0, limit)).toBe(0);
    expect(limiter.take(100, limit)).toBe(0);
    expect(limiter.take(200, limit)).toBe(1);
    // The first create leaves the sliding window at 1000 ms.
    expect(limiter.take(1_001, limit)).toBe(0);
    expect(limiter.take(1_002, limit)).toBe(1);
  });

  it('no limit configured: always accepts', () => {
    const limiter = new CreateRateLimiter();
    for (let i = 0; i < 100; i++) expect(limiter.take(i, undefined)).toBe(0);
  });
});
