/**
 * The one home for "may this be tried again?" (docs/providers.md §3 "Errors", §2 "Errors", §1
 * "Errors", and the corrections of 2026-11-30), and the retry policy built on it: capped,
 * jittered exponential backoff (up to 50%, as Runway asks) that honours `retry-after-ms` and
 * `Retry-After`, within a time budget.
 *
 * Three questions, three answers:
 * - a poll or download may be retried on connection errors, 408, 429 and 5xx (every provider);
 * - a create may be retried only when the provider documents that it did NOT process it:
 *   429 everywhere, plus Runway's 502/503 ("shedding load"); anything else after sending
 *   (500, 504, undocumented) leaves the outcome unknown (see client.ts);
 * - a provider error code under HTTP 200 may say "retry" (RunComfy 500001).
 */

export interface RetryPolicy {
  /** Total attempts including the first (polls and downloads). */
  maxAttempts: number;
  /** No retry is started if it would end after this many ms since the first attempt. */
  budgetMs: number;
  /** Creates the provider refused (429, load shedding) wait longer: a rate limit clears in seconds to minutes. */
  createMaxAttempts: number;
  createBudgetMs: number;
  /** First backoff delay; doubles each attempt. */
  baseDelayMs: number;
  /** Cap for computed backoff. A server-requested delay is never shortened; it only has to fit the budget. */
  maxDelayMs: number;
  /** Fraction (0..1) of the delay that is randomly removed, to spread out retry storms. */
  jitter: number;
  /** Source of randomness for jitter; injectable so tests are deterministic. */
  random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 60_000,
  createMaxAttempts: 1000,
  createBudgetMs: 300_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  // Runway: "use exponential backoff with up to 50% jitter" (docs.dev.runwayml.com/api-details/errors).
  jitter: 0.5,
  random: Math.random,
};

export function resolveRetryPolicy(partial?: Partial<RetryPolicy>): RetryPolicy {
  return { ...defaultRetryPolicy, ...partial };
}

/**
 * Statuses each provider documents as "your create was not processed, send it again".
 * Runway (api-details/errors): 429 may be retried; 502/503 mean the service is shedding load.
 * CometAPI (errors/error-codes-handling): 429 → retry with exponential backoff and jitter.
 * RunComfy (runcomfy-cli: 429 = "rate limited; retry in a moment", exit 75 "retryable").
 * 500/504/524 are NOT here: the request may have been processed, so a create answered so is "unknown outcome".
 */
const CREATE_NOT_PROCESSED: Record<string, readonly number[]> = {
  runway: [429, 502, 503],
  cometapi: [429],
  runcomfy: [429],
};

/** Provider error codes that mean "try again later" even under HTTP 200 (RunComfy: 500001 "retry with backoff"). */
const RETRYABLE_CODES: Record<string, readonly (number | string)[]> = {
  runcomfy: [500001],
};

/** Statuses that say "try again later" rather than "your request is wrong" (polls, downloads, cancels). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A create answered with this status was provably not processed by `provider`, so it may be sent again. */
export function isCreateNotProcessed(status: number, provider?: string): boolean {
  if (status === 429) return true;
  return provider !== undefined && (CREATE_NOT_PROCESSED[provider] ?? []).includes(status);
}

/** Whether a provider's error (status, and its own code if any) may succeed when asked again. */
export function isRetryableProviderError(provider: string, status: number, code?: number | string): boolean {
  if (code !== undefined && (RETRYABLE_CODES[provider] ?? []).includes(code)) return true;
  return isRetryableStatus(status);
}

/**
 * Runway task failure codes (runwayml/skills rw-api-reference; providers.md §3 and corrections):
 * `SAFETY.INPUT.*` is input moderation — the same request fails the same way, so it is not
 * re-bought unless something changed. `INTERNAL.*` and `SAFETY.OUTPUT.*` may be retried.
 */
const FINAL_FAILURE_CODES: Record<string, readonly RegExp[]> = {
  runway: [/^SAFETY\.INPUT\./],
  // CometAPI forwards Runway's task object, failureCode included.
  cometapi: [/^SAFETY\.INPUT\./],
};

/** A task that failed with this code will fail again if submitted unchanged. */
export function isFinalFailureCode(provider: string, failureCode: string | undefined): boolean {
  return failureCode !== undefined && (FINAL_FAILURE_CODES[provider] ?? []).some((pattern) => pattern.test(failureCode));
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

/**
 * The wait before the next attempt: the server's request if it gave one (never shortened: it
 * knows when it will have room again), else jittered backoff.
 */
export function nextDelayMs(retryNumber: number, policy: RetryPolicy, headers: Headers | undefined, nowMs: number): number {
  const requested = headers ? parseRetryAfterMs(headers, nowMs) : undefined;
  if (requested !== undefined) return requested;
  return backoffDelayMs(retryNumber, policy);
}

/** Whether another attempt fits: attempts left and the wait ends inside the budget. */
export function canRetry(attemptsMade: number, elapsedMs: number, delayMs: number, policy: RetryPolicy, kind: 'create' | 'poll' | 'download' = 'poll'): boolean {
  const [attempts, budget] = kind === 'create' ? [policy.createMaxAttempts, policy.createBudgetMs] : [policy.maxAttempts, policy.budgetMs];
  return attemptsMade < attempts && elapsedMs + delayMs <= budget;
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
