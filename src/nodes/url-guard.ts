import { isIP } from 'node:net';
import { isPrivateAddress, systemResolve, type Resolve } from '../http/public-address.js';

export { isPrivateAddress, type Resolve };

/**
 * Which image URLs a shared workflow may make us fetch. Without a guard a LoadImage URL is a
 * port scanner aimed at the user's own machine and network (127.0.0.1, 169.254.169.254, the
 * router). By default only https URLs whose host resolves to public addresses are fetched;
 * REELGRAPH_ALLOW_PRIVATE_URLS=1 (set by --allow-private-urls) lets tests and intranets through.
 * Refusals never say what, if anything, answered at the address.
 */

export const ALLOW_PRIVATE_URLS_ENV = 'REELGRAPH_ALLOW_PRIVATE_URLS';

export const PRIVATE_HOST_PROBLEM = 'names a host that resolves to a loopback, private or link-local address (refused; run with --allow-private-urls for an intranet)';

export function allowsPrivateUrls(env: NodeJS.ProcessEnv): boolean {
  return env[ALLOW_PRIVATE_URLS_ENV] === '1';
}

/**
 * Why the URL may not be fetched, judged from the text alone (validation reads no network), or
 * undefined. WHATWG URL parsing has already turned 2130706433, 0x7f000001 and 0177.0.0.1 into 127.0.0.1.
 */
export function urlProblem(value: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (allowPrivate) return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http(s) URL';
  if (url.protocol !== 'https:') return 'must be an https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || !host.includes('.') && isIP(host.replace(/^\[|\]$/g, '')) === 0) {
    return 'must name a public host (local names are refused; run with --allow-private-urls for an intranet)';
  }
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0 && isPrivateAddress(host)) {
    return 'must name a public address (loopback, private and link-local addresses are refused; run with --allow-private-urls for an intranet)';
  }
  return undefined;
}

/**
 * urlProblem, then the host's DNS answers: every address must be public. Resolving failures are reported without detail.
 * This is the early, readable refusal; the fetch itself connects only to an address vetted from the same DNS answer
 * its socket uses (`publicOnly` in the HTTP client), so a name that rebinds to 127.0.0.1 after this check gets nowhere.
 */

export async function fetchableUrlProblem(value: string, allowPrivate: boolean, resolve: Resolve = systemResolve): Promise<string | undefined> {
  const problem = urlProblem(value, allowPrivate);
  if (problem || allowPrivate) return problem;
  const host = new URL(value).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return undefined;
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch {
    return 'names a host that does not resolve';
  }
  if (addresses.length === 0 || addresses.some((a) => isPrivateAddress(a.address))) {
    return PRIVATE_HOST_PROBLEM;
  }
  return undefined;
}
