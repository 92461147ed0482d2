import { Agent, request as undiciRequest } from 'undici';
import type { Clock } from '../engine/clock.js';
import { systemClock } from '../engine/clock.js';
import { RuntimeError, SubmitOutcomeUnknownError, messageOf } from '../engine/errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from './types.js';
import { CreateLane } from './create-lane.js';
import { publicOnlyLookup, type Resolve } from './public-address.js';
import type { RetryPolicy } from './retry.js';
import { canRetry, isConnectionError, isCreateNotProcessed, isNotSentError, isRetryableStatus, nextDelayMs, resolveRetryPolicy } from './retry.js';
import { isSecretName, REDACTED } from './secrets.js';

/**
 * The HttpClient every provider and node uses: undici over one keep-alive Agent, with the
 * retry policy from retry.ts. Non-2xx responses are returned for the caller to map; only
 * transport failures throw. A create (POST by default) is never resent once it may have
 * reached the server, because the provider could bill a second job — unless the provider
 * documents the answer as "not processed" (429, Runway's 502/503), which is retried, single
 * file per provider origin while the limit lasts (create-lane.ts), so a batch does not storm it.
 */

export interface HttpClientOptions {
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  log?: (line: string) => void;
  /** The DNS answers `publicOnly` connections vet (the system resolver; tests give a rebinding one). */
  resolve?: Resolve;
}

/** The connection failed on every attempt (poll/download) or before a create was sent. */
export class HttpConnectionError extends RuntimeError {
  override name = 'HttpConnectionError';
  override retryable = true;
}

const DEFAULT_TIMEOUT_MS = 60_000;

const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

export function createHttpClient(options: HttpClientOptions = {}): HttpClient & { close(): Promise<void> } {
  const policy = resolveRetryPolicy(options.retry);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  // Enough sockets for a few hundred concurrent jobs polling one provider.
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 128 });
  // Strangers' URLs get their own pool: its sockets connect only to addresses the lookup vetted.
  let publicAgent: Agent | undefined;
  const agentFor = (req: HttpRequest): Agent => (req.publicOnly ? (publicAgent ??= new Agent({ keepAliveTimeout: 4_000, connections: 16, connect: { lookup: publicOnlyLookup(options.resolve) } })) : agent);

  async function attempt(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const res = await undiciRequest(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      dispatcher: agentFor(req),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      // Videos are streamed to disk: bigger buffered chunks mean fewer, larger writes.
      ...(req.kind === 'download' ? { highWaterMark: DOWNLOAD_CHUNK_BYTES } : {}),
    });
    const body = res.body;
    return {
      status: res.statusCode,
      headers: res.headers,
      body,
      text: () => body.text(),
      json: () => body.json(),
    };
  }

  const lanes = new Map<string, CreateLane>();
  const laneFor = (url: string) => {
    const origin = new URL(url).origin;
    let lane = lanes.get(origin);
    if (!lane) lanes.set(origin, (lane = new CreateLane()));
    return lane;
  };

  async function request(req: HttpRequest): Promise<HttpResponse> {
    const kind = req.kind ?? (req.method === 'POST' ? 'create' : 'poll');
    const lane = kind === 'create' ? laneFor(req.url) : undefined;
    const started = clock.now();
    // Our turn in the origin's single-file lane, once it is refusing creates for load.
    let turn: (() => void) | undefined;
    try {
      for (let attempts = 1; ; attempts++) {
        if (lane && !turn && lane.isLimited(clock.now())) turn = await lane.enter();
        let outcome: { response: HttpResponse } | { error: unknown };
        try {
          req.onAttempt?.();
          outcome = { response: await attempt(req) };
        } catch (error) {
          if (req.signal?.aborted || !isConnectionError(error)) throw error;
          outcome = { error };
        }
        const status = 'response' in outcome ? outcome.response.status : undefined;
        log(describe(req, attempts, 'response' in outcome ? String(outcome.response.status) : messageOf(outcome.error)));
        const retryable = kind === 'create' ? createMayRetry(req, outcome) : pollMayRetry(outcome);
        const delay = nextDelayMs(attempts, policy, 'response' in outcome ? outcome.response.headers : undefined, clock.now());
        if (retryable && canRetry(attempts, clock.now() - started, delay, policy, kind)) {
          if ('response' in outcome) outcome.response.body.resume();
          // Refused for load: later creates to this origin queue behind this one until it clears.
          if (lane && status !== undefined) lane.limit(clock.now() + delay);
          req.onRetry?.({ kind, ...(status !== undefined ? { status } : {}), delayMs: delay, attempt: attempts });
          await clock.sleep(delay, req.signal);
          continue;
        }
        if ('response' in outcome) return outcome.response;
        throw new HttpConnectionError(`${req.method} ${safeUrl(req.url)} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${messageOf(outcome.error)}`, { cause: outcome.error });
      }
    } finally {
      turn?.();
    }
  }

  return { request, close: async () => void (await Promise.all([agent.close(), publicAgent?.close()])) };
}

function pollMayRetry(outcome: { response: HttpResponse } | { error: unknown }): boolean {
  return 'response' in outcome ? isRetryableStatus(outcome.response.status) : true;
}

/**
 * A create may be retried only if it provably never left or the provider documents the answer as
 * "not processed"; any other doubt (500, 504, a drop after sending) becomes SubmitOutcomeUnknownError.
 */
function createMayRetry(req: HttpRequest, outcome: { response: HttpResponse } | { error: unknown }): boolean {
  if ('response' in outcome) {
    if (isCreateNotProcessed(outcome.response.status, req.provider)) return true;
    if (outcome.response.status < 500) return false;
    outcome.response.body.resume();
    throw unknownOutcome(req, `the server answered HTTP ${outcome.response.status}`);
  }
  if (isNotSentError(outcome.error)) return true;
  throw unknownOutcome(req, `the connection failed after the request was sent (${messageOf(outcome.error)})`, outcome.error);
}

function unknownOutcome(req: HttpRequest, what: string, cause?: unknown): SubmitOutcomeUnknownError {
  return new SubmitOutcomeUnknownError(
    `Submitting to ${safeUrl(req.url)} may or may not have created a job because ${what}; check the provider's task list or dashboard before submitting again, since a second submit may be billed twice.`,
    { cause },
  );
}

/** The URL without its query string, which may carry signatures. */
export function safeUrl(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

/** A debug line with the Authorization header (and any key-bearing header) redacted. */
function describe(req: HttpRequest, attempt: number, result: string): string {
  const headers = Object.entries(req.headers ?? {})
    .map(([name, value]) => `${name}: ${isSecretName(name) ? REDACTED : value}`)
    .join(', ');
  return `http ${req.kind ?? ''} ${req.method} ${safeUrl(req.url)} attempt ${attempt} -> ${result}${headers ? ` {${headers}}` : ''}`;
}
