import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { saveVideo } from '../../../src/nodes/save-video.js';
import type { SavedVideo, VideoRef } from '../../../src/nodes/values.js';
import { InputError } from '../../../src/engine/errors.js';
import { fakeContext, makeTempDir, nodeHttpClient } from '../../helpers/fake-context.js';
import { FakeProvider, FakeProviderRegistry } from '../../helpers/fake-provider.js';

/** Not a playable video, but it has what SaveVideo checks: an ftyp box at offset 4. */
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.alloc(200_000, 7)]);
const half = Math.floor(MP4.length / 2);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
let routes: Record<string, Handler>;
const seen: { path: string; range?: string }[] = [];

/** Sends part of the body and then drops the connection. */
function cut(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer) {
  res.writeHead(status, headers);
  res.write(body, () => setImmediate(() => res.destroy()));
}

function serveRange(req: IncomingMessage, res: ServerResponse) {
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = match ? Number(match[1]) : 0;
  const headers: Record<string, string> = { 'Content-Type': 'video/mp4', 'Content-Length': String(MP4.length - start) };
  if (match) headers['Content-Range'] = `bytes ${start}-${MP4.length - 1}/${MP4.length}`;
  res.writeHead(match ? 206 : 200, headers).end(MP4.subarray(start));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}) });
    (routes[path] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let tmp: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir();
  routes = { '/ok.mp4': serveRange };
  seen.length = 0;
});
afterEach(() => tmp.cleanup());

const video = (path: string): VideoRef => ({
  url: `${base}${path}`,
  task: { provider: 'runway', model: 'gen4_turbo', taskId: 'task-3', baseUrl: base, submittedAt: 0, duration: 5, ratio: '1280:720' },
  queuedMs: 0,
  runningMs: 0,
});

function context(provider = new FakeProvider('runway')) {
  return fakeContext({ http: nodeHttpClient(), providers: new FakeProviderRegistry(provider), files: { inputDir: tmp.dir, outputDir: join(tmp.dir, 'output') } });
}
const defaults = { filename_prefix: 'reelgraph/video', format: 'auto', codec: 'auto' } as const;
const listOutput = (sub = 'reelgraph') => readdir(join(tmp.dir, 'output', sub)).catch(() => []);

describe('SaveVideo', () => {
  it('streams to a temp file, checks it, and renames with an incrementing counter', async () => {
    const ctx = context();
    const first = await saveVideo.run({ video: video('/ok.mp4') }, defaults, ctx);
    const second = await saveVideo.run({ video: video('/ok.mp4') }, defaults, ctx);
    const files = [...(first.files as SavedVideo[]), ...(second.files as SavedVideo[])];
    expect(files.map((f) => [f.filename, f.subfolder, f.type])).toEqual([
      ['video_00001_.mp4', 'reelgraph', 'output'],
      ['video_00002_.mp4', 'reelgraph', 'output'],
    ]);
    expect((await readFile(files[0]!.path)).equals(MP4)).toBe(true);
    expect(files[0]).toMatchObject({ bytes: MP4.length, sha256: createHash('sha256').update(MP4).digest('hex') });
    expect((await listOutput()).sort()).toEqual(['video_00001_.mp4', 'video_00002_.mp4']);
    expect(ctx.progressEvents.at(-1)).toMatchObject({ phase: 'downloading', value: 100 });
  });

  it("continues after the highest existing counter (ComfyUI's rule)", async () => {
    await mkdir(join(tmp.dir, 'output', 'reelgraph'), { recursive: true });
    await writeFile(join(tmp.dir, 'output', 'reelgraph', 'video_00041_.mp4'), 'old');
    const out = await saveVideo.run({ video: video('/ok.mp4') }, defaults, context());
    expect((out.files as SavedVideo[])[0]!.filename).toBe('video_00042_.mp4');
  });

  it('shows the files in ComfyUI UI shape and knows when a cached result is gone', async () => {
    const out = await saveVideo.run({ video: video('/ok.mp4') }, { ...defaults, filename_prefix: 'clip' }, context());
    const entry = { filename: 'clip_00001_.mp4', subfolder: '', type: 'output' };
    expect(saveVideo.uiOutput!(out)).toEqual({ images: [entry], animated: [true], videos: [entry] });
    expect(await saveVideo.isCacheValid!(out, {})).toBe(true);
    await writeFile((out.files as SavedVideo[])[0]!.path, 'changed');
    expect(await saveVideo.isCacheValid!(out, {})).toBe(false);
  });

  it('resumes a cut download with a Range request from the bytes written', async () => {
    let calls = 0;
    routes['/flaky.mp4'] = (req, res) => {
      calls++;
      if (calls === 1) return cut(res, 200, { 'Content-Length': String(MP4.length) }, MP4.subarray(0, half));
      serveRange(req, res);
    };
    const out = await saveVideo.run({ video: video('/flaky.mp4') }, defaults, context());
    expect((await readFile((out.files as SavedVideo[])[0]!.path)).equals(MP4)).toBe(true);
    expect(seen[0]!.range).toBeUndefined();
    expect(seen[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(seen[1]!.range!)![0])).toBeGreaterThan(0);
  });

  it('leaves no file behind when the download keeps getting cut (3 resumes, then fails)', async () => {
    routes['/truncated.mp4'] = (req, res) => {
      const start = Number(/\d+/.exec(req.headers.range ?? '')?.[0] ?? 0);
      const headers: Record<string, string> = { 'Content-Length': String(MP4.length - start) };
      if (start > 0) headers['Content-Range'] = `bytes ${start}-${MP4.length - 1}/${MP4.length}`;
      cut(res, start > 0 ? 206 : 200, headers, MP4.subarray(start, start + 1000));
    };
    await expect(saveVideo.run({ video: video('/truncated.mp4') }, defaults, context())).rejects.toThrow(/after 3 resumes/);
    expect(seen).toHaveLength(4);
    expect(await listOutput()).toEqual([]);
  });

  it('refuses a download without the MP4 signature and leaves no file', async () => {
    routes['/html.mp4'] = (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>AccessDenied</html>');
    await expect(saveVideo.run({ video: video('/html.mp4') }, defaults, context())).rejects.toThrow(/not an MP4 \(no ftyp box at offset 4\)/);
    expect(await listOutput()).toEqual([]);
  });

  it('fetches the task again once for a fresh URL when the URL has expired', async () => {
    routes['/expired.mp4'] = (_req, res) => res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error>AccessDenied</Error>');
    const provider = new FakeProvider('runway', [{ state: 'succeeded', videoUrls: [`${base}/ok.mp4`] }]);
    const out = await saveVideo.run({ video: video('/expired.mp4') }, defaults, context(provider));
    expect(provider.getTaskCalls).toEqual(['task-3']);
    expect(seen.map((s) => s.path)).toEqual(['/expired.mp4', '/ok.mp4']);
    expect((await readFile((out.files as SavedVideo[])[0]!.path)).equals(MP4)).toBe(true);
  });

  it('refreshes only once: a fresh URL that is also refused fails the node', async () => {
    routes['/expired.mp4'] = (_req, res) => res.writeHead(403).end();
    const provider = new FakeProvider('runway', [{ state: 'succeeded', videoUrls: [`${base}/expired.mp4`] }]);
    await expect(saveVideo.run({ video: video('/expired.mp4') }, defaults, context(provider))).rejects.toThrow(/HTTP 403 \(even with a freshly fetched URL\)/);
    expect(provider.getTaskCalls).toHaveLength(1);
    expect(await listOutput()).toEqual([]);
  });

  it.each(['../escape/video', '/tmp/video', 'a/../../video'])('refuses filename_prefix %s outside the output folder', async (prefix) => {
    await expect(saveVideo.run({ video: video('/ok.mp4') }, { ...defaults, filename_prefix: prefix }, context())).rejects.toThrow(InputError);
    expect(seen).toEqual([]);
  });

  it('removes the partial file when the run is aborted mid-download', async () => {
    const ctx = context();
    routes['/slow.mp4'] = (_req, res) => {
      res.writeHead(200, { 'Content-Length': String(MP4.length) });
      res.write(MP4.subarray(0, half), () => ctx.controller.abort());
    };
    await expect(saveVideo.run({ video: video('/slow.mp4') }, defaults, ctx)).rejects.toThrow();
    expect(await listOutput()).toEqual([]);
  });
});
