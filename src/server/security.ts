import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Request checks for a server that only ever talks to a browser on the same machine.
 * They close the holes ComfyUI users reported: any website POSTing /prompt to localhost
 * (Comfy-Org/ComfyUI#4850), `Origin: null` slipping past an Origin check (#13245) and
 * DNS rebinding through a foreign Host header (#12860).
 */

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Who may talk to a server bound beyond loopback: the extra host names its Host header may carry
 * (`--allow-host`, the bound address) and the token every request must show.
 */
export interface AccessPolicy {
  extraHosts: ReadonlySet<string>;
  token?: string;
}

export const LOOPBACK_ONLY: AccessPolicy = { extraHosts: new Set() };

/** The cookie the page gets after opening `/?token=…`, so its own requests and websocket carry the token. */
export const TOKEN_COOKIE = 'reelgraph_token';

/** Whether a Host header value names this server on a loopback name (or an allowed extra name) with the right port. */
export function isAllowedHost(host: string | undefined, port: number, extraHosts: ReadonlySet<string> = LOOPBACK_ONLY.extraHosts): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match) return false;
  const name = match[1]!;
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  if (hostPort !== port) return false;
  return LOOPBACK_NAMES.has(name) || isLoopbackV4(name) || extraHosts.has(name);
}

function isLoopbackV4(name: string): boolean {
  const parts = name.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

/** The origins a page served by this server can have. */
export function allowedOrigins(port: number, extraHosts: ReadonlySet<string> = LOOPBACK_ONLY.extraHosts): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, ...[...extraHosts].map((host) => `http://${host}:${port}`)]);
}

function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request shows: `Authorization: Bearer T`, `?token=T` (page and websocket), or the page's cookie. */
export function presentedToken(request: IncomingMessage): string | undefined {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const query = (request.url ?? '').split('?')[1];
  const fromQuery = query ? new URLSearchParams(query).get('token') : null;
  if (fromQuery !== null) return fromQuery;
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Whether the request shows the policy's token (always true when there is none). */
export function hasToken(request: IncomingMessage, policy: AccessPolicy): boolean {
  return policy.token === undefined || sameSecret(presentedToken(request), policy.token);
}

/**
 * Why the request must be refused, or undefined when it may go on.
 * The Origin must match the Host the browser used, so a page on localhost:P cannot be
 * framed as 127.0.0.1:P by another site; `null` is never a match.
 */
export function rejectionReason(request: IncomingMessage, port: number, policy: AccessPolicy = LOOPBACK_ONLY): string | undefined {
  const host = request.headers.host;
  if (!isAllowedHost(host, port, policy.extraHosts)) return 'Host header is not this server';
  if (!hasToken(request, policy)) return 'a valid token is required (Authorization: Bearer, or ?token= on the page URL)';
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const expected = `http://${host!.toLowerCase()}`;
    if (origin.toLowerCase() !== expected || !allowedOrigins(port, policy.extraHosts).has(expected)) return 'cross-origin request';
  }
  const site = request.headers['sec-fetch-site'];
  const method = request.method ?? 'GET';
  const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  if (!safe && crossSite) return 'cross-site request';
  // An <img src> on another site must not learn which files exist (a 200/404 oracle).
  const path = (request.url ?? '/').split('?')[0]!;
  if (crossSite && (path === '/view' || path === '/api/view')) return 'cross-site request';
  return undefined;
}
