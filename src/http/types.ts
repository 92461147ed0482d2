import type { Readable } from 'node:stream';

/**
 * The one HTTP client every provider and node uses (undici with keep-alive underneath).
 * `kind` selects the retry policy: polls and downloads retry on connection errors,
 * 408, 429 and 5xx; a create is retried only if it provably never reached the server.
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
