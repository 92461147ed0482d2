import { readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FileHost, parseListen } from '../../../src/app/file-host.js';
import { makeTempDir } from '../../helpers/fake-context.js';
import { makeImages, type TestImages } from '../../helpers/make-images.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let images: TestImages;
let host: FileHost | undefined;
let now = 1_700_000_000_000;

beforeAll(async () => {
  tmp = await makeTempDir();
  images = await makeImages(tmp.dir);
});
afterAll(() => tmp.cleanup());
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** Requests the public URL's path and query from where the host actually listens (the tunnel's job). */
async function fetchVia(h: FileHost, publicUrl: string, method = 'GET') {
  const { port } = await h.address();
  const url = new URL(publicUrl);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `${url.pathname}${url.search}`, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function newHost(ttlMs = 60_000) {
  host = new FileHost({ publicUrl: 'https://tunnel.example/base/', listen: '127.0.0.1:0', ttlMs, now: () => now });
  return host;
}

describe('FileHost', () => {
  it('makes signed, expiring URLs under the public URL', async () => {
    const url = await newHost().url(images.png);
    expect(url).toMatch(/^https:\/\/tunnel\.example\/base\/f\/[0-9a-f]{32}\/photo\.png\?exp=\d+&sig=[\w-]+$/);
  });

  it('answers HEAD with Content-Type and Content-Length, and GET with the bytes', async () => {
    const h = newHost();
    const url = await h.url(images.jpeg);
    const head = await fetchVia(h, url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/jpeg');
    expect(Number(head.headers['content-length'])).toBe((await stat(images.jpeg)).size);
    expect(head.body.length).toBe(0);
    const get = await fetchVia(h, url);
    expect(get.status).toBe(200);
    expect(get.body.equals(await readFile(images.jpeg))).toBe(true);
    // A tunnel that strips the public path prefix reaches the same file.
    expect((await fetchVia(h, url.replace('/base/f/', '/f/'), 'HEAD')).status).toBe(200);
  });

  it('rejects a bad signature, a changed expiry, an unknown token and other methods', async () => {
    const h = newHost();
    const url = await h.url(images.webp);
    expect((await fetchVia(h, url.replace(/sig=[\w-]/, 'sig=A'))).status).toBe(403);
    expect((await fetchVia(h, url.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 3600}`))).status).toBe(403);
    expect((await fetchVia(h, url.replace(/\/f\/[0-9a-f]{32}\//, `/f/${'0'.repeat(32)}/`))).status).toBe(404);
    expect((await fetchVia(h, url.replace('photo.webp', 'other.webp'))).status).toBe(404);
    expect((await fetchVia(h, url, 'POST')).status).toBe(405);
    expect((await fetchVia(h, url)).headers['content-type']).toBe('image/webp');
  });

  it('rejects an expired link', async () => {
    const h = newHost(60_000);
    const url = await h.url(images.png);
    expect((await fetchVia(h, url, 'HEAD')).status).toBe(200);
    now += 61_000;
    expect((await fetchVia(h, url, 'HEAD')).status).toBe(403);
  });

  it('refuses to host files that are not images', async () => {
    const notes = join(tmp.dir, 'notes.txt');
    await writeFile(notes, 'text');
    await expect(newHost().url(notes)).rejects.toThrow();
  });

  it('explains a listen failure and names --listen', async () => {
    const first = newHost();
    const { port } = await first.address();
    const second = new FileHost({ publicUrl: `http://127.0.0.1:${port}`, ttlMs: 1000 });
    await expect(second.url(images.png)).rejects.toThrow(new RegExp(`cannot serve local images on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\); pass --listen`));
    await second.close();
  });

  it('parses --listen forms', () => {
    expect(parseListen('0.0.0.0:8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen(':7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseListen('7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(() => parseListen('nope')).toThrow(/host:port/);
  });
});
