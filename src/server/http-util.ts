import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseWorkflowText } from '../comfy/read-json.js';

/** Small helpers shared by the routes. */

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(text);
}

/** Reads the whole body, refusing (413) anything over maxBytes without buffering it. */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new HttpError(413, `Request body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) throw new HttpError(413, `Request body is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  return parseJsonBody(await readBody(request, maxBytes));
}

/** A request body as JSON; an empty body is `{}`. @throws HttpError 400 */
export function parseJsonBody(body: Uint8Array): unknown {
  if (body.length === 0) return {};
  try {
    // The runtime's reader: accepts ComfyUI's NaN and refuses prototype-altering keys.
    return parseWorkflowText(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
