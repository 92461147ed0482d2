import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConnectionError, createHttpClient } from '../../../src/http/client.js';
import { SubmitOutcomeUnknownError } from '../../../src/engine/errors.js';
import type { ScriptedServer } from '../../helpers/scripted-server.js';
import { freePort } from '../../../src/http/free-port.js';
import { recordingClock, startScriptedServer } from '../../helpers/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function serve(...steps: Parameters<typeof startScriptedServer>[0]): Promise<ScriptedServer> {
  const server = await startScriptedServer(steps);
  servers.push(server);
  return server;
}

function client(options: Parameters<typeof createHttpClient>[0]) {
  const http = createHttpClient({ ...options, retry: { random: () => 0, ...options?.retry } });
  clients.push(http);
  return http;
}

describe('createHttpClient', () => {
  it('honours Retry-After on 429 for polls', async () => {
    const server = await serve({ status: 429, json: { error: 'slow down' }, headers: { 'Retry-After': '3' } }, { status: 200, json: { ok: true } });
    const clock = recordingClock();
    const res = await client({ clock }).request({ method: 'GET', url: `${server.url}/task`, kind: 'poll' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(clock.sleeps).toEqual([3000]);
    expect(server.received).toHaveLength(2);
  });

  it('retries a burst of 5xx with growing backoff, then succeeds', async () => {
    const server = await serve({ status: 502, text: 'bad gateway' }, { status: 503, text: 'busy' }, { status: 500, text: 'oops' }, { status: 200, json: { done: 1 } });
    const clock = recordingClock();
    const res = await client({ clock, retry: { baseDelayMs: 100 } }).request({ method: 'GET', url: `${server.url}/t` });
    expect(res.status).toBe(200);
    expect(clock.sleeps).toEqual([100, 200, 400]);
    expect(server.received).toHaveLength(4);
  });

  it('returns the last response when retries are exhausted', async () => {
    const server = await serve({ status: 503, json: { error: 'down' } });
    const clock = recordingClock();
    const res = await client({ clock, retry: { maxAttempts: 3 } }).request({ method: 'GET', url: `${server.url}/t`, kind: 'download' });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'down' });
    expect(server.received).toHaveLength(3);
  });

  it('stops retrying when the time budget would be exceeded', async () => {
    const server = await serve({ status: 429, text: 'later', headers: { 'Retry-After': '5' } });
    const clock = recordingClock();
    const res = await client({ clock, retry: { budgetMs: 12_000 } }).request({ method: 'GET', url: `${server.url}/t` });
    expect(res.status).toBe(429);
    expect(clock.sleeps).toEqual([5000, 5000]);
  });

  it('does not retry 4xx other than 408 and 429', async () => {
    const server = await serve({ status: 404, json: { error: 'nope' } });
    const res = await client({ clock: recordingClock() }).request({ method: 'GET', url: `${server.url}/t` });
    expect(res.status).toBe(404);
    expect(server.received).toHaveLength(1);
  });

  // Issue 11 point 2: a create the provider refused (429, Runway's 502/503 "shedding load") is retried.
  it.each([
    ['runway', 429, { 'Retry-After': '2' }, [2000]],
    ['runway', 429, { 'retry-after-ms': '250', 'Retry-After': '1' }, [250]],
    ['runway', 502, {}, [500]],
    ['runway', 503, {}, [500]],
    ['cometapi', 429, {}, [500]],
    ['runcomfy', 429, {}, [500]],
  ] as const)('retries a %s create refused with %i (waits %j), and says so', async (provider, status, headers, sleeps) => {
    const server = await serve({ status, json: { error: 'later' }, headers: { ...headers } }, { status: 200, json: { id: 'job-1' } });
    const clock = recordingClock();
    const notices: unknown[] = [];
    const res = await client({ clock }).request({ method: 'POST', url: `${server.url}/v1/image_to_video`, body: '{}', provider, onRetry: (n) => notices.push(n) });
    expect(await res.json()).toEqual({ id: 'job-1' });
    expect(server.received).toHaveLength(2);
    expect(clock.sleeps).toEqual(sleeps);
    expect(notices).toEqual([{ kind: 'create', status, delayMs: sleeps[0], attempt: 1 }]);
  });

  it.each([
    ['runway', 500],
    ['runway', 504],
    ['cometapi', 502],
    ['cometapi', 503],
    ['runcomfy', 503],
  ])('leaves a %s create answered %i as unknown outcome (not documented as "not processed")', async (provider, status) => {
    const server = await serve({ status, text: 'x' }, { status: 200, json: { id: 'second' } });
    const request = client({ clock: recordingClock() }).request({ method: 'POST', url: `${server.url}/create`, body: '{}', provider });
    await expect(request).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(server.received).toHaveLength(1);
  });

  it('gives a refused create back as the last answer once the budget is spent, never waiting less than asked', async () => {
    const server = await serve({ status: 429, json: { error: 'daily cap' }, headers: { 'Retry-After': '100' } });
    const clock = recordingClock();
    const res = await client({ clock, retry: { createBudgetMs: 250_000 } }).request({ method: 'POST', url: `${server.url}/create`, body: '{}', provider: 'runway' });
    expect(res.status).toBe(429);
    expect(clock.sleeps).toEqual([100_000, 100_000]);
    expect(server.received).toHaveLength(3);
  });

  it('sends creates single file to an origin while it is rate limiting', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let served = 0;
    const server = await serve(async (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      served++;
      if (served === 1) res.writeHead(429, { 'retry-after-ms': '10' }).end('{}');
      else res.writeHead(200).end(`{"id":"${served}"}`);
    });
    const http = client({});
    const first = await http.request({ method: 'POST', url: `${server.url}/c`, body: '{}', provider: 'runway' });
    expect(first.status).toBe(200);
    await first.text();
    maxInFlight = 0;
    const answers = await Promise.all(Array.from({ length: 5 }, () => http.request({ method: 'POST', url: `${server.url}/c`, body: '{}', provider: 'runway' })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await Promise.all(answers.map((a) => a.text()));
    expect(maxInFlight).toBe(1);
  });

  it('never retries a create that got a 5xx: the job may exist', async () => {
    const server = await serve({ status: 502, text: 'bad gateway' }, { status: 200, json: { id: 'second' } });
    const clock = recordingClock();
    const request = client({ clock }).request({ method: 'POST', url: `${server.url}/v1/image_to_video`, body: '{}' });
    await expect(request).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    await expect(request).rejects.toThrow(/may or may not have created a job.*HTTP 502/);
    expect(server.received).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('never retries a create whose connection dropped after sending', async () => {
    const server = await serve((_req, res) => res.socket?.destroy());
    const request = client({ clock: recordingClock() }).request({ method: 'POST', url: `${server.url}/create`, body: '{"a":1}' });
    await expect(request).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(server.received).toHaveLength(1);
  });

  it('returns a 4xx create response for the adapter to map', async () => {
    const server = await serve({ status: 400, json: { error: 'Validation of body failed' } });
    const res = await client({ clock: recordingClock() }).request({ method: 'POST', url: `${server.url}/create`, body: '{}' });
    expect(res.status).toBe(400);
    expect(server.received).toHaveLength(1);
  });

  it('retries a create refused before sending, once the server is up', async () => {
    const port = await freePort();
    let server: ScriptedServer | undefined;
    const clock = recordingClock(async () => {
      server ??= await startScriptedServer([{ status: 200, json: { id: 'job-1' } }], port);
      servers.push(server);
    });
    const res = await client({ clock }).request({ method: 'POST', url: `http://127.0.0.1:${port}/create`, body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'job-1' });
    expect(clock.sleeps).toHaveLength(1);
    expect(server?.received).toHaveLength(1);
  });

  it('throws HttpConnectionError when a poll keeps failing to connect', async () => {
    const port = await freePort();
    const clock = recordingClock();
    const request = client({ clock, retry: { maxAttempts: 3 } }).request({ method: 'GET', url: `http://127.0.0.1:${port}/t?sig=secret` });
    await expect(request).rejects.toBeInstanceOf(HttpConnectionError);
    await expect(request).rejects.toThrow(/failed after 3 attempts/);
    await expect(request).rejects.not.toThrow(/secret/);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('redacts Authorization in debug logs', async () => {
    const server = await serve({ status: 200, json: {} });
    const lines: string[] = [];
    await client({ clock: recordingClock(), log: (line) => lines.push(line) }).request({
      method: 'GET',
      url: `${server.url}/t`,
      headers: { Authorization: 'Bearer sk-very-secret', 'X-Runway-Version': '2024-11-06' },
    });
    expect(server.received[0]?.headers.authorization).toBe('Bearer sk-very-secret');
    expect(lines.join('\n')).toContain('[redacted]');
    expect(lines.join('\n')).toContain('2024-11-06');
    expect(lines.join('\n')).not.toContain('sk-very-secret');
  });

  it('aborts an in-flight request through the signal', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const controller = new AbortController();
    const request = client({ clock: recordingClock() }).request({ method: 'GET', url: `http://127.0.0.1:${port}/`, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });
});
