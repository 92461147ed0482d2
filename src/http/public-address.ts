import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Public addresses only, for URLs a stranger's workflow names (LoadImage). Checking a name's DNS answer and then
 * connecting is not enough: the name can answer a public address to the check and 127.0.0.1 to the connection
 * (DNS rebinding). `publicOnlyLookup` is the socket's own lookup: the addresses it connects to are the ones it
 * vetted, in the same answer.
 */

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

/** Whether an IP address (v4 or v6, as written by URL or DNS) is loopback, private, link-local or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return true;
  return family === 4 ? PRIVATE_V4.check(bare, 'ipv4') : PRIVATE_V6.check(bare, 'ipv6');
}

/** A name's addresses, as the system resolver gives them. */
export type Resolve = (host: string) => Promise<{ address: string; family?: number }[]>;
export const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/** The connection was refused because the name resolved to a non-public address (no code: never retried). */
export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls connect options (undici's `connect: { lookup }`) that hands the socket only public addresses. */
export function publicOnlyLookup(resolve: Resolve = systemResolve): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answers) => {
        const addresses = answers.map((answer) => ({ address: answer.address, family: answer.family ?? isIP(answer.address) }));
        if (addresses.length === 0 || addresses.some((answer) => isPrivateAddress(answer.address))) {
          return callback(new PrivateAddressError(`${hostname} resolves to a loopback, private or link-local address`), '');
        }
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((answer) => answer.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '');
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), ''),
    );
  };
}
