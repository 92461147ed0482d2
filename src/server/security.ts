import type { IncomingMessage } from 'node:http';

/**
 * Request checks for a server that only ever talks to a browser on the same machine.
 * They close the holes ComfyUI users reported: any website POSTing /prompt to localhost
 * (Comfy-Org/ComfyUI#4850), `Origin: null` slipping past an Origin check (#13245) and
 * DNS rebinding through a foreign Host header (#12860).
 */

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Whether a Host header value names this server on a loopback name with the right port. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const name = match[1]!;
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  if (hostPort !== port) return false;
  return LOOPBACK_NAMES.has(name) || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** The origins a page served by this server can have. */
export function allowedOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);
}

/**
 * Why the request must be refused, or undefined when it may go on.
 * The Origin must match the Host the browser used, so a page on localhost:P cannot be
 * framed as 127.0.0.1:P by another site; `null` is never a match.
 */
export function rejectionReason(request: IncomingMessage, port: number): string | undefined {
  const host = request.headers.host;
  if (!isAllowedHost(host, port)) return 'Host header is not this server';
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const expected = `http://${host!.toLowerCase()}`;
    if (origin.toLowerCase() !== expected || !allowedOrigins(port).has(expected)) return 'cross-origin request';
  }
  const site = request.headers['sec-fetch-site'];
  const method = request.method ?? 'GET';
  const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  if (!safe && site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross-site request';
  return undefined;
}
