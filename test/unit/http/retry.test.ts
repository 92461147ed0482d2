import { describe, expect, it } from 'vitest';
import { backoffDelayMs, canRetry, isNotSentError, isRetryableStatus, nextDelayMs, parseRetryAfterMs, resolveRetryPolicy } from '../../../src/http/retry.js';

const policy = resolveRetryPolicy({ random: () => 0.5, baseDelayMs: 500, maxDelayMs: 8000, jitter: 0.25 });

describe('retry policy', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
  ])('status %i retryable is %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });

  it('reads retry-after-ms before Retry-After', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, 0)).toBe(250);
  });

  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(parseRetryAfterMs({ 'retry-after': '3' }, 0)).toBe(3000);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfterMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, now)).toBe(5000);
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, 0)).toBeUndefined();
  });

  it('backs off exponentially with jitter and a cap', () => {
    // random 0.5 × jitter 0.25 removes 12.5%.
    expect(backoffDelayMs(1, policy)).toBe(438);
    expect(backoffDelayMs(2, policy)).toBe(875);
    expect(backoffDelayMs(10, policy)).toBe(7000);
  });

  it('honours the server delay exactly (never earlier than asked; the budget decides whether to wait)', () => {
    expect(nextDelayMs(1, policy, { 'retry-after': '2' }, 0)).toBe(2000);
    expect(nextDelayMs(1, policy, { 'retry-after': '120' }, 0)).toBe(120_000);
    expect(canRetry(1, 0, 120_000, resolveRetryPolicy())).toBe(false);
    expect(nextDelayMs(2, policy, {}, 0)).toBe(875);
  });

  it('stops at the attempt limit and at the time budget', () => {
    const limited = resolveRetryPolicy({ maxAttempts: 3, budgetMs: 10_000 });
    expect(canRetry(2, 0, 100, limited)).toBe(true);
    expect(canRetry(3, 0, 100, limited)).toBe(false);
    expect(canRetry(1, 9_950, 100, limited)).toBe(false);
  });

  it('treats refused and unresolved connections as not sent, resets as possibly sent', () => {
    expect(isNotSentError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isNotSentError(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'x'))).toBe(true);
    expect(isNotSentError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isNotSentError(Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' }))).toBe(false);
    expect(isNotSentError(new Error('plain'))).toBe(false);
  });
});
