import type { Readable } from 'node:stream';

/**
 * The one HTTP client every provider and node uses (undici with keep-alive underneath).
 * `kind` selects the retry policy: polls and downloads retry on connection errors,
 * 408, 429 and 5xx; a create is retried only if it provably never reached the server or the
 * provider documents the answer as "not processed" (src/http/retry.ts).
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  kind?: 'poll' | 'create' | 'download';
  /** Which provider's retry rules apply (retry.ts): e.g. Runway's 502/503 on a create mean "not processed". */
  provider?: string;
  /** Told before each wait for a retry, so a node can show "rate limited, retrying in N s". */
  onRetry?: (notice: RetryNotice) => void;
  /**
   * Connect only to public addresses, vetted in the same DNS answer the socket uses (public-address.ts): for URLs a
   * stranger's workflow names, which must not reach loopback or the LAN, not even by rebinding the name after a check.
   */
  publicOnly?: boolean;
  /** Told right before each attempt is sent (the journal tells "never sent" from "unknown" with it). */
  onAttempt?: () => void;
}

/** One retry about to happen: what went wrong and how long we wait. */
export interface RetryNotice {
  kind: 'poll' | 'create' | 'download';
  /** The HTTP status that asked for the retry; undefined for a connection failure. */
  status?: number;
  delayMs: number;
  /** The attempt that just failed (1-based). */
  attempt: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as a stream; consume it once. */
  body: Readable;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
}
