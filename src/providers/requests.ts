import type { z } from 'zod';
import { ProviderAuthError, ProviderHttpError, ProviderRateLimitError } from '../engine/errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../http/types.js';
import { isRetryableProviderError } from '../http/retry.js';
import type { ProviderInfo, TaskStatus } from './provider.js';
import { scrubText, scrubValue } from '../http/secrets.js';

/** Helpers the three adapters share: calling, reading bodies, and mapping failures to our errors. */

export interface ProviderCall {
  http: HttpClient;
  info: ProviderInfo;
  apiKey: string;
}

export interface ReadResponse {
  status: number;
  headers: HttpResponse['headers'];
  /** Parsed JSON, or the raw text when the body is not JSON (HTML error pages), or undefined when empty. */
  body: unknown;
}

/** Sends one request with the Bearer key and reads the whole body. */
export async function send(call: ProviderCall, request: Omit<HttpRequest, 'headers'> & { headers?: Record<string, string> }): Promise<ReadResponse> {
  const headers: Record<string, string> = { Authorization: `Bearer ${call.apiKey}`, Accept: 'application/json', ...request.headers };
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await call.http.request({ ...request, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parseBody(text) };
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Builds `${base}${path}` without doubled slashes. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** The right error class for a status: 401/403 auth, 429 rate limit, anything else plain HTTP. */
export function providerError(call: ProviderCall, status: number, providerMessage: string, body?: unknown, authFailure = false, code?: number | string): ProviderHttpError {
  const text = scrub(providerMessage, call.apiKey);
  const message = `${call.info.displayName} returned HTTP ${status}: ${text}`;
  const safeBody = scrubBody(body, call.apiKey);
  if (authFailure || status === 401 || status === 403) return new ProviderAuthError(call.info.id, status, `${message} (check ${call.info.keyEnv}).`, safeBody);
  const retryable = isRetryableProviderError(call.info.id, status, code);
  if (status === 429) return new ProviderRateLimitError(call.info.id, status, `${message}.`, safeBody, retryable);
  return new ProviderHttpError(call.info.id, status, `${message}.`, safeBody, retryable);
}

/** Parses a response body with zod, or throws a ProviderHttpError that says what was unexpected. */
export function parseOrThrow<S extends z.ZodType>(call: ProviderCall, schema: S, res: ReadResponse, what: string): z.infer<S> {
  const parsed = schema.safeParse(res.body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'unknown shape';
  return failUnexpected(call, res, `unexpected ${what} response (${where})`);
}

function failUnexpected(call: ProviderCall, res: ReadResponse, detail: string): never {
  const message = scrub(`${call.info.displayName} returned HTTP ${res.status} with an ${detail}`, call.apiKey);
  throw new ProviderHttpError(call.info.id, res.status, `${message}.`, scrubBody(res.body, call.apiKey));
}

/** A short description of a body we could not interpret, for messages. */
export function describeBody(body: unknown): string {
  if (body === undefined) return 'empty body';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** The body with every form of the key replaced, for attaching to errors. */
export function scrubBody(body: unknown, apiKey: string): unknown {
  if (body === undefined) return body;
  return scrubValue(body, [apiKey], { dropSecretNames: false });
}

/** Removes the key (in any form: case, hex, base64) from anything a provider echoes back, so it never reaches logs or errors. */
export function scrub(text: string, apiKey: string): string {
  return scrubText(text.replace(/[.\s]+$/, ''), [apiKey]);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A success without any video URL is a provider fault, not a success the caller can use. */
export function requireVideo(call: ProviderCall, status: TaskStatus, res: ReadResponse): TaskStatus {
  if (status.state !== 'succeeded' || status.videoUrls.length > 0) return status;
  const message = scrub(`${call.info.displayName} reported the task as succeeded but gave no video URL: ${describeBody(res.body)}`, call.apiKey);
  throw new ProviderHttpError(call.info.id, res.status, `${message}.`, scrubBody(res.body, call.apiKey));
}
