import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { multipart, postJson, raw, startTestServer, type TestServer } from '../../helpers/test-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await writeFile(join(server.root, 'secret.txt'), 'outside the output folder');
  await mkdir(server.outputDir, { recursive: true });
  await writeFile(join(server.outputDir, 'clip.mp4'), Buffer.alloc(1000, 7));
  await symlink(join(server.root, 'secret.txt'), join(server.outputDir, 'escape.txt'));
});

afterAll(async () => {
  await server.close();
});

describe('cross-site requests', () => {
  it('refuses a POST from another origin', async () => {
    const response = await postJson(server.port, '/prompt', { prompt: {} }, { origin: 'http://evil.example' });
    expect(response.status).toBe(403);
  });

  it('refuses Origin: null (sandboxed frames, file: pages)', async () => {
    const response = await postJson(server.port, '/api/prompt', { prompt: {} }, { origin: 'null' });
    expect(response.status).toBe(403);
  });

  it('refuses a GET from another origin too', async () => {
    const response = await raw(server.port, 'GET', '/api/history', { headers: { origin: `http://localhost.evil.example:${server.port}` } });
    expect(response.status).toBe(403);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const response = await raw(server.port, 'GET', '/object_info', { headers: { host: `rebind.evil.example:${server.port}` } });
    expect(response.status).toBe(403);
  });

  it('refuses a loopback Host with the wrong port', async () => {
    const response = await raw(server.port, 'GET', '/object_info', { headers: { host: `127.0.0.1:${server.port + 1}` } });
    expect(response.status).toBe(403);
  });

  it('refuses a non-GET marked cross-site by Sec-Fetch-Site', async () => {
    const response = await postJson(server.port, '/interrupt', {}, { 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(403);
  });

  it('accepts its own origin and same-origin fetches', async () => {
    const headers = { origin: `http://127.0.0.1:${server.port}`, 'sec-fetch-site': 'same-origin' };
    const response = await postJson(server.port, '/interrupt', {}, headers);
    expect(response.status).toBe(200);
    const page = await raw(server.port, 'GET', '/', { headers: { host: `localhost:${server.port}` } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('refuses a websocket from another origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?clientId=x`, { origin: 'http://evil.example' });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    ws.terminate();
    expect(status).toBe(403);
  });
});

describe('/view confinement', () => {
  it.each([
    ['a ../ file name', '/view?filename=../secret.txt&type=output'],
    ['an encoded ../', '/view?filename=..%2Fsecret.txt&type=output'],
    ['a .. subfolder', '/view?filename=secret.txt&subfolder=..&type=output'],
    ['an absolute subfolder', `/view?filename=secret.txt&subfolder=${encodeURIComponent('/etc')}&type=output`],
  ])('refuses %s', async (_name, path) => {
    const response = await raw(server.port, 'GET', path);
    expect([403, 404]).toContain(response.status);
    expect(response.body.toString()).not.toContain('outside the output folder');
  });

  it('does not follow a symlink out of the folder', async () => {
    const response = await raw(server.port, 'GET', '/view?filename=escape.txt&type=output');
    expect(response.status).toBe(404);
    expect(response.body.toString()).not.toContain('outside the output folder');
  });

  it('serves byte ranges of a video', async () => {
    const response = await raw(server.port, 'GET', '/api/view?filename=clip.mp4&type=output', { headers: { range: 'bytes=100-199' } });
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe('bytes 100-199/1000');
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.body.length).toBe(100);
  });

  it('serves an uploaded SVG only as a download', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const form = multipart('evil.svg', svg);
    const upload = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(upload.status).toBe(200);
    const { name } = upload.json<{ name: string }>();
    const response = await raw(server.port, 'GET', `/view?filename=${encodeURIComponent(name)}&type=input`);
    expect(response.status).toBe(200);
    expect(response.headers['content-disposition']).toMatch(/^attachment/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-type']).not.toContain('svg');
  });
});

describe('/upload/image', () => {
  it('refuses an upload over 20 MB with 413', async () => {
    const form = multipart('big.png', Buffer.alloc(21 * 1024 * 1024, 1));
    const response = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(response.status).toBe(413);
  });

  it('reuses a same-content file and renames a different one', async () => {
    const send = async (bytes: Buffer) => {
      const form = multipart('photo.png', bytes);
      const response = await raw(server.port, 'POST', '/api/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
      expect(response.status).toBe(200);
      return response.json<{ name: string; subfolder: string; type: string }>();
    };
    expect(await send(Buffer.from('first'))).toEqual({ name: 'photo.png', subfolder: '', type: 'input' });
    expect((await send(Buffer.from('first'))).name).toBe('photo.png');
    expect((await send(Buffer.from('second'))).name).toBe('photo (1).png');
  });

  it('strips folders from the file name and refuses a .. subfolder', async () => {
    const form = multipart('../../escape.png', Buffer.from('x'));
    const named = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(named.json<{ name: string }>().name).toBe('escape.png');
    const sub = multipart('a.png', Buffer.from('x'), { subfolder: '../..' });
    const refused = await raw(server.port, 'POST', '/upload/image', { headers: { 'content-type': sub.contentType }, body: sub.body });
    expect(refused.status).toBe(403);
  });
});
