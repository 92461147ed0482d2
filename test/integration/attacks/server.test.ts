import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { multipart, postJson, raw, startTestServer, type TestServer } from '../../helpers/test-server.js';

/**
 * The local server attacked from outside: a predictable temp folder, a LAN bind without a token,
 * file-existence probing from another site, uploads through a symlinked subfolder, malformed
 * Host values and escapes, builtin names as node ids.
 */

let server: TestServer;
let outside: string;
let planted: string;

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'reelgraph-outside-'));
  // Whoever creates the old predictable temp name first must not decide where temp files go.
  planted = join(tmpdir(), `reelgraph-temp-${process.pid}`);
  await rm(planted, { recursive: true, force: true });
  await symlink(outside, planted);
  server = await startTestServer();
  await mkdir(server.inputDir, { recursive: true });
  await symlink(outside, join(server.inputDir, 'linked'));
});
afterAll(async () => {
  await server?.close();
  await rm(planted, { force: true });
  await rm(outside, { recursive: true, force: true });
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('temp folder and uploads', () => {
  it('a type=temp upload lands in a private fresh folder, not a planted one', async () => {
    const form = multipart('a.png', PNG, { type: 'temp' });
    const response = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(response.status).toBe(200);
    expect(await readdir(outside)).toEqual([]);
    const view = await raw(server.port, 'GET', '/view?filename=a.png&type=temp');
    expect(view.status).toBe(200);
    expect(view.body.equals(PNG)).toBe(true);
  });

  it.each([['linked/x'], ['linked/deeper/still']])('an upload into the symlinked subfolder "%s" creates nothing outside', async (subfolder) => {
    const form = multipart('b.png', PNG, { subfolder });
    const response = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(response.status).toBe(403);
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('probing and malformed requests answer 4xx, never 500', () => {
  it.each([
    ['cross-site <img> on /view', '/view?filename=a.png&type=temp', { 'sec-fetch-site': 'cross-site' }, 403],
    ['same-site <img> on /api/view', '/api/view?filename=a.png&type=temp', { 'sec-fetch-site': 'same-site' }, 403],
    ['Host 127.999.999.999', '/history', { host: '127.999.999.999' }, 403],
    ['Host 127.1.1.256 with port', '/history', { host: '127.1.1.256:80' }, 403],
    ['/%ZZ', '/%ZZ', {}, 404],
    ['/history/%ZZ', '/history/%ZZ', {}, 400],
    ['/api/object_info/%E0%A4%A', '/api/object_info/%E0%A4%A', {}, 400],
    ['/object_info/toString', '/object_info/toString', {}, 200],
    ['/history/constructor', '/history/constructor', {}, 200],
  ] as [string, string, Record<string, string>, number][])('%s', async (_name, path, headers, status) => {
    const response = await raw(server.port, 'GET', path, { headers: headers.host ? headers : { host: `127.0.0.1:${server.port}`, ...headers } });
    expect(response.status).toBe(status);
    if (status === 200) expect(response.json()).toEqual({});
  });

  it.each([['toString'], ['valueOf'], ['hasOwnProperty'], ['__defineGetter__']])('POST /prompt with a node id "%s" is validated, not a 500', async (id) => {
    const prompt = { [id]: { class_type: 'LoadImage', inputs: { image: 'missing.png' } }, '2': { class_type: 'ValidateImage', inputs: { image: [id, 0] } } };
    const response = await postJson(server.port, '/prompt', { prompt });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json())).toContain(id);
  });
});

describe('serve --host 0.0.0.0 (the built CLI) requires a token on every route and the websocket', () => {
  let child: ChildProcess;
  let port: number;
  let token: string;
  let banner = '';

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'reelgraph-lan-'));
    child = spawn(process.execPath, [resolve('dist/cli/main.js'), 'serve', '--host', '0.0.0.0', '--port', '0', '--output-dir', join(root, 'out'), '--input-dir', join(root, 'in'), '--allow-host', 'studio.example'], {
      env: { ...process.env, REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_AUTH_TOKEN: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((ready) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        banner += chunk.toString();
        if (banner.includes('Listening on')) ready();
      });
    });
    const match = /http:\/\/studio\.example:(\d+)\/\?token=([\w-]+)/.exec(banner);
    port = Number(match![1]);
    token = match![2]!;
  });
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('prints the real URL with a generated token and a warning, not a loopback URL', () => {
    expect(banner).toMatch(/Listening on 0\.0\.0\.0: anyone who can reach this machine/);
    expect(banner).not.toMatch(/http:\/\/127\.0\.0\.1/);
    expect(token.length).toBeGreaterThanOrEqual(32);
  });

  it.each([['/'], ['/history'], ['/object_info'], ['/queue'], ['/view?filename=x.png'], ['/api/reelgraph/catalog']])('GET %s without a token is refused, even with a loopback Host', async (path) => {
    expect((await raw(port, 'GET', path)).status).toBe(403);
    expect((await raw(port, 'GET', path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
  });

  it('POST /prompt without a token is refused', async () => {
    expect((await postJson(port, '/prompt', { prompt: {} })).status).toBe(403);
  });

  it('accepts Authorization: Bearer, ?token= and the cookie the page gets; allows --allow-host names', async () => {
    expect((await raw(port, 'GET', '/history', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const page = await raw(port, 'GET', `/?token=${token}`);
    expect(page.status).not.toBe(403);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect((await raw(port, 'GET', '/history', { headers: { cookie } })).status).toBe(200);
    expect((await raw(port, 'GET', '/history', { headers: { host: `studio.example:${port}`, authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await raw(port, 'GET', '/history', { headers: { host: `evil.example:${port}`, authorization: `Bearer ${token}` } })).status).toBe(403);
  });

  it('the websocket needs the token too', async () => {
    const open = (query: string) =>
      new Promise<number>((done) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`);
        ws.on('open', () => {
          ws.close();
          done(101);
        });
        ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
        ws.on('error', () => done(0));
      });
    expect(await open('')).toBe(403);
    expect(await open('?token=wrong')).toBe(403);
    expect(await open(`?token=${token}`)).toBe(101);
  });

  it('a loopback-only startServer refuses to bind wide without a token', async () => {
    const { startServer } = await import('../../../src/server/index.js');
    await expect(startServer({ port: 0, host: '0.0.0.0', inputDir: join(outside, 'i'), outputDir: join(outside, 'o') })).rejects.toThrow(/auth token is required/);
    expect(existsSync(join(outside, 'i'))).toBe(true); // folders are made before the bind check; nothing listens
  });
});
