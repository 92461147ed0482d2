import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseByteRange, type ByteRange } from '../http/range.js';
import type { JobStore } from './jobs.js';
import type { UrlSigner } from './signing.js';
import type { UploadStore } from './runway-uploads.js';
import type { EmulatorOptions, Reply } from './types.js';

/** Small helpers shared by the emulator's routes and server. */

/** Everything a route needs from the running emulator. */
export interface EmulatorState {
  options(): EmulatorOptions;
  jobs: JobStore;
  signer: UrlSigner;
  /** Runway's ephemeral uploads. */
  uploads: UploadStore;
}

/**
 * Whether this poll of a job answers a status word clients do not know (unknownStatusPolls):
 * `polls` already counts this one; `skip` polls answered otherwise first (CometAPI task_not_exist).
 */
export function unknownWordDue(state: EmulatorState, polls: number, skip = 0): boolean {
  const n = state.options().unknownStatusPolls ?? 0;
  return polls - skip >= 1 && polls - skip <= n;
}

/** A number, or its decimal string when the emulator sends numbers as strings. */
export function num(state: EmulatorState, value: number): number | string {
  return state.options().numbersAsStrings ? String(value) : value;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, json: body, ...(headers ? { headers } : {}) };
}

/** Reads the whole request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON body; undefined when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return body.length === 0 ? undefined : (JSON.parse(body.toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}

/** The Bearer token, or undefined if absent or empty. */
export function bearerKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const key = match?.[1]?.trim();
  return key ? key : undefined;
}

/** Whether the request carries a key this emulator accepts. */
export function keyAccepted(req: IncomingMessage, options: EmulatorOptions, runwayShape = false): boolean {
  const key = bearerKey(req);
  if (!key) return false;
  if (runwayShape && options.strictKeys && !/^key_[0-9a-f]{128}$/.test(key)) return false;
  return options.acceptAnyKey || options.keys.includes(key);
}

export type { ByteRange };

/** A single `bytes=` range, 'unsatisfiable', or undefined when there is none; a malformed header is ignored. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const range = parseByteRange(header, size);
  return range === 'malformed' ? undefined : range;
}

/** Range reply headers for a `size`-byte resource: 206 with Content-Range, 416, or a plain 200. */
export function rangeHeaders(range: ByteRange | 'unsatisfiable' | undefined, size: number): { status: number; start: number; end: number; headers: Record<string, string> } {
  if (range === 'unsatisfiable') return { status: 416, start: 0, end: -1, headers: { 'Content-Range': `bytes */${size}` } };
  if (!range) return { status: 200, start: 0, end: size - 1, headers: { 'Accept-Ranges': 'bytes' } };
  return { status: 206, start: range.start, end: range.end, headers: { 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } };
}

/** Writes a reply; with `truncateAt`, sends that fraction of the body under the full Content-Length, then cuts the connection. */
export function writeReply(res: ServerResponse, reply: Reply, head: boolean, truncateAt?: number): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: Uint8Array | undefined = reply.bytes;
  if (reply.json !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.json));
    headers['Content-Type'] ??= 'application/json';
  } else if (reply.text !== undefined) {
    payload = Buffer.from(reply.text);
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  }
  const length = reply.stream ? reply.length : payload?.length;
  if (length !== undefined && reply.status !== 204) headers['Content-Length'] = String(length);
  res.writeHead(reply.status, headers);
  if (head || reply.status === 204) {
    reply.stream?.destroy();
    res.end();
    return;
  }
  if (truncateAt !== undefined && length !== undefined) return writeTruncated(res, reply, payload, Math.floor(length * truncateAt));
  if (reply.stream) reply.stream.pipe(res);
  else res.end(payload);
}

function writeTruncated(res: ServerResponse, reply: Reply, payload: Uint8Array | undefined, cut: number): void {
  const cutConnection = () => res.socket?.destroy();
  if (!reply.stream || cut <= 0) {
    reply.stream?.destroy();
    res.write(payload?.subarray(0, cut) ?? Buffer.alloc(0), cutConnection);
    return;
  }
  const stream = reply.stream;
  let sent = 0;
  stream.on('data', (chunk: Buffer) => {
    const piece = chunk.subarray(0, cut - sent);
    sent += piece.length;
    if (sent >= cut) {
      stream.destroy();
      res.write(piece, cutConnection);
    } else if (!res.write(piece)) {
      // Respect backpressure so a truncated 200 MB blob is not buffered in memory.
      stream.pause();
      res.once('drain', () => stream.resume());
    }
  });
}
