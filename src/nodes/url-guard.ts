import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which image URLs a shared workflow may make us fetch. Without a guard a LoadImage URL is a
 * port scanner aimed at the user's own machine and network (127.0.0.1, 169.254.169.254, the
 * router). By default only https URLs whose host resolves to public addresses are fetched;
 * REELGRAPH_ALLOW_PRIVATE_URLS=1 (set by --allow-private-urls) lets tests and intranets through.
 * Refusals never say what, if anything, answered at the address.
 */

export const ALLOW_PRIVATE_URLS_ENV = 'REELGRAPH_ALLOW_PRIVATE_URLS';

// Two lists: one BlockList matches IPv4 addresses against IPv6 mapped rules (::ffff:0:0/96 would block all of IPv4).
const PRIVATE_V4 = new BlockList();
const PRIVATE_V6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE_V4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  // ::/96 holds :: and ::1 and the old IPv4-compatible form; ::ffff:0:0/96 every IPv4-mapped address
  // (which would otherwise carry 127.0.0.1 past an IPv4-only list); 64:ff9b::/96 and 2002::/16 embed IPv4 too.
  ['::', 96], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) PRIVATE_V6.addSubnet(net, prefix, 'ipv6');

export function allowsPrivateUrls(env: NodeJS.ProcessEnv): boolean {
  return env[ALLOW_PRIVATE_URLS_ENV] === '1';
}

/** Whether an IP address (v4 or v6, as written by URL or DNS) is loopback, private, link-local or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return true;
  return family === 4 ? PRIVATE_V4.check(bare, 'ipv4') : PRIVATE_V6.check(bare, 'ipv6');
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

/** urlProblem, then the host's DNS answers: every address must be public. Resolving failures are reported without detail. */
export type Resolve = (host: string) => Promise<{ address: string }[]>;
const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

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
    return 'names a host that resolves to a loopback, private or link-local address (refused; run with --allow-private-urls for an intranet)';
  }
  return undefined;
}
