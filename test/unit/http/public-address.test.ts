import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../../src/http/client.js';
import { PrivateAddressError, publicOnlyLookup, type Resolve } from '../../../src/http/public-address.js';
import { fetchableUrlProblem } from '../../../src/nodes/url-guard.js';

/**
 * DNS rebinding against LoadImage URLs: the name answers a public address to the guard's check and 127.0.0.1 to
 * the connection. The connection vets its own answer, so it never reaches the loopback server.
 */

/** Answers each lookup with the next address of the list (the last one from then on). */
function rebinding(...answers: string[]): Resolve & { calls: number } {
  const resolve = Object.assign(async () => [{ address: answers[Math.min(resolve.calls++, answers.length - 1)]! }], { calls: 0 });
  return resolve;
}

let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  server = createServer((_request, response) => response.end('not an image'));
  server.on('connection', () => connections++);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

describe('publicOnly connections', () => {
  it('a name that answers a public address to the check and 127.0.0.1 to the connection never reaches loopback', async () => {
    const resolve = rebinding('93.184.216.34', '127.0.0.1');
    // The check sees the public answer and lets the URL through…
    expect(await fetchableUrlProblem('https://rebind.example/x.png', false, resolve)).toBeUndefined();
    // …and the connection, resolving again, gets loopback: refused before any socket opens to it.
    // The default retry policy: a refusal is final, not a connection failure to retry (one lookup after the check).
    const http = createHttpClient({ resolve });
    try {
      await expect(http.request({ method: 'GET', url: `http://rebind.example:${port}/x.png`, kind: 'download', publicOnly: true })).rejects.toBeInstanceOf(PrivateAddressError);
    } finally {
      await http.close();
    }
    expect(resolve.calls).toBe(2);
    expect(connections).toBe(0);
  });

  it('without publicOnly (our own providers, --allow-private-urls) the same client connects as before', async () => {
    const http = createHttpClient({ resolve: rebinding('127.0.0.1') });
    try {
      const response = await http.request({ method: 'GET', url: `http://127.0.0.1:${port}/x.png`, kind: 'download' });
      expect(await response.text()).toBe('not an image');
    } finally {
      await http.close();
    }
    expect(connections).toBe(1);
  });

  it.each([['127.0.0.1'], ['::1'], ['169.254.169.254'], ['::ffff:127.0.0.1'], ['10.1.2.3']])('the lookup refuses %s', async (address) => {
    const answer = await new Promise<unknown>((done) => publicOnlyLookup(rebinding(address))('rebind.example', { all: true }, (error) => done(error)));
    expect(answer).toBeInstanceOf(PrivateAddressError);
  });

  it('the lookup hands a public answer to the socket, in both callback forms', async () => {
    const lookup = publicOnlyLookup(async () => [{ address: '93.184.216.34' }, { address: '2606:2800:220:1::1' }]);
    const all = await new Promise<unknown>((done) => lookup('example.org', { all: true }, (error, addresses) => done(error ?? addresses)));
    expect(all).toEqual([{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }]);
    const one = await new Promise<unknown>((done) => lookup('example.org', { family: 6 }, (error, address, family) => done(error ?? [address, family])));
    expect(one).toEqual(['2606:2800:220:1::1', 6]);
  });

  it('a mix of public and private answers is refused whole (the socket could pick either)', async () => {
    const lookup = publicOnlyLookup(async () => [{ address: '93.184.216.34' }, { address: '127.0.0.1' }]);
    const answer = await new Promise<unknown>((done) => lookup('example.org', { all: true }, (error) => done(error)));
    expect(answer).toBeInstanceOf(PrivateAddressError);
  });
});
