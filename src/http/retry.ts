/**
 * The one retry policy for HTTP (the Runway SDK's rules, with a time budget on top):
 * polls and downloads retry on connection errors, 408, 429 and 5xx with capped,
 * jittered exponential backoff that honours `retry-after-ms` and `Retry-After`.
 * A create is never retried once it may have reached the server (see http-client.ts).
 */

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** No retry is started if it would end after this many ms since the first attempt. */
  budgetMs: number;
  /** First backoff delay; doubles each attempt. */
  baseDelayMs: number;
  /** Cap for computed backoff and for server-requested delays. */
  maxDelayMs: number;
  /** Fraction (0..1) of the delay that is randomly removed, to spread out retry storms. */
  jitter: number;
  /** Source of randomness for jitter; injectable so tests are deterministic. */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.25,
  random: Math.random,
};

export function resolveRetryPolicy(partial?: Partial<RetryPolicy>): RetryPolicy {
  return { ...defaultRetryPolicy, ...partial };
}

/** Statuses that say "try again later" rather than "your request is wrong". */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The delay the server asked for, in ms: `retry-after-ms`, then `Retry-After` as seconds or an HTTP date. */
export function parseRetryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = header(headers, 'retry-after');
  if (after === undefined || after.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Math.max(0, Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Backoff before attempt `retryNumber + 1` (retryNumber starts at 1): base·2ⁿ⁻¹, capped, minus jitter. */
export function backoffDelayMs(retryNumber: number, policy: RetryPolicy): number {
  const raw = Math.min(policy.baseDelayMs * 2 ** (retryNumber - 1), policy.maxDelayMs);
  return Math.round(raw * (1 - policy.random() * policy.jitter));
}

/** The wait before the next attempt: the server's request if it gave one (capped), else backoff. */
export function nextDelayMs(retryNumber: number, policy: RetryPolicy, headers: Headers | undefined, nowMs: number): number {
  const requested = headers ? parseRetryAfterMs(headers, nowMs) : undefined;
  if (requested !== undefined) return Math.min(requested, policy.maxDelayMs);
  return backoffDelayMs(retryNumber, policy);
}

/** Whether another attempt fits: attempts left and the wait ends inside the budget. */
export function canRetry(attemptsMade: number, elapsedMs: number, delayMs: number, policy: RetryPolicy): boolean {
  return attemptsMade < policy.maxAttempts && elapsedMs + delayMs <= policy.budgetMs;
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function errorCodes(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') codes.push(code);
  if (cause !== undefined && cause !== error) codes.push(...errorCodes(cause));
  // Happy-eyeballs connects raise an AggregateError with one error per address.
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner));
  return codes;
}

/** True when the connection failed before any byte of the request was sent, so even a create may be retried. */
export function isNotSentError(error: unknown): boolean {
  const codes = errorCodes(error);
  return codes.length > 0 && codes.every((code) => NOT_SENT_CODES.has(code));
}

/** A transport failure (reset, timeout, refused), as opposed to an abort or a programming error. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof Error && error.name === 'AbortError') return false;
  return errorCodes(error).some((code) => code.startsWith('E') || code.startsWith('UND_ERR_'));
}
