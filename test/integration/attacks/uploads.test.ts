import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Uploads against the built `reelgraph serve`: 20 concurrent 20 MB images must not take the server's memory
 * with them (issue 10: RSS went from 94 MB to 1.5 GB), and an over-size body is refused while it streams,
 * leaving no file behind. The server's peak RSS is its kernel high-water mark (VmHWM).
 */

/** ComfyUI's and our upload cap: 20 MiB. */
const CAP = 20 * 1024 * 1024;
const CONCURRENT = 20;
const RSS_LIMIT_MB = 512;

let child: ChildProcess;
let port: number;
let root: string;
let inputDir: string;
/** What the server put in the input folder itself (the example images). */
let seeded: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelgraph-uploads-'));
  inputDir = join(root, 'in');
  child = spawn(process.execPath, [resolve('dist/cli/main.js'), 'serve', '--port', '0', '--input-dir', inputDir, '--output-dir', join(root, 'out')], {
    env: { ...process.env, REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let banner = '';
  port = await new Promise<number>((ready, fail) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(banner);
      if (match) ready(Number(match[1]));
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${banner}`)));
  });
  seeded = await readdir(inputDir, { recursive: true });
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  }
  await rm(root, { recursive: true, force: true });
});

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([length, typed, crc]);
}

/** A valid 64×64 PNG of exactly `size` bytes: the bulk is a private ancillary chunk, which decoders skip. */
function pngOfSize(size: number, seed: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(64, 0);
  ihdr.writeUInt32BE(64, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // One filter byte and 64 grey pixels per row, stored (uncompressed) in a zlib stream.
  const raw = Buffer.alloc(65 * 64, seed & 0xff);
  for (let row = 0; row < 64; row++) raw[row * 65] = 0;
  const deflated = Buffer.concat([Buffer.from([0x78, 0x01, 0x01, raw.length & 0xff, raw.length >> 8, ~raw.length & 0xff, (~raw.length >> 8) & 0xff]), raw, Buffer.alloc(4)]);
  deflated.writeUInt32BE(adler32(raw), deflated.length - 4);
  const head = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflated)]);
  const end = chunk('IEND', Buffer.alloc(0));
  const padding = Buffer.alloc(size - head.length - end.length - 12, seed);
  return Buffer.concat([head, chunk('rgPd', padding), end]);
}

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Sends one multipart upload as ComfyUI's frontend does (the file first, then the fields), writing the shared
 * file buffer as it is (no per-request copy), with or without a Content-Length.
 */
function upload(name: string, file: Buffer, fields: Record<string, string>, options: { chunked?: boolean } = {}): Promise<{ status: number; body: string }> {
  const boundary = `----reelgraph${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`);
  const tail = Buffer.from(
    `\r\n${Object.entries(fields)
      .map(([key, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`)
      .join('')}--${boundary}--\r\n`,
  );
  const headers: Record<string, string | number> = { 'content-type': `multipart/form-data; boundary=${boundary}`, host: `127.0.0.1:${port}` };
  if (!options.chunked) headers['content-length'] = head.length + file.length + tail.length;
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/upload/image', headers }, (res) => {
      let body = '';
      res.on('data', (part: Buffer) => (body += part.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the whole body is sent (a refused upload): that is the answer.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? done({ status: -1, body: error.code }) : fail(error)));
    req.write(head);
    // In 1 MiB slices, as a network would deliver it.
    for (let offset = 0; offset < file.length; offset += 1024 * 1024) req.write(file.subarray(offset, offset + 1024 * 1024));
    req.end(tail);
  });
}

function peakRssMb(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) => Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

describe('20 concurrent 20 MB uploads to the built server', () => {
  it(`keep its peak RSS under ${RSS_LIMIT_MB} MB and store every file whole`, async () => {
    const before = await peakRssMb(child.pid!);
    // Different content per upload (no de-duplication shortcut); 20 buffers of 20 MB stay in this test process only.
    const files = Array.from({ length: CONCURRENT }, (_, i) => pngOfSize(CAP - 4096, i + 1));
    const answers = await Promise.all(files.map((file, i) => upload(`big-${i}.png`, file, { type: 'input', check: 'image' })));
    const peak = await peakRssMb(child.pid!);
    console.log(`serve peak RSS: ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB after ${CONCURRENT} concurrent ${(CAP / 1024 / 1024).toFixed(0)} MiB uploads`);
    expect(answers.map((a) => a.status)).toEqual(files.map(() => 200));
    expect(peak).toBeLessThan(RSS_LIMIT_MB);
    for (const [i, file] of files.entries()) {
      const stored = await readFile(join(inputDir, `big-${i}.png`));
      expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
    }
    // Nothing half-written or staged is left next to them.
    expect((await readdir(inputDir, { recursive: true })).sort()).toEqual([...seeded, ...files.map((_, i) => `big-${i}.png`)].sort());
  });

  it('refuses a body over 20 MiB without a Content-Length while it streams, and leaves no file', async () => {
    const answer = await upload('over.png', pngOfSize(CAP + 1024 * 1024, 99), { type: 'input' }, { chunked: true });
    // 413, or the connection closed on a refused body before the client finished sending it.
    expect([413, -1]).toContain(answer.status);
    expect((await readdir(inputDir, { recursive: true })).filter((name) => !name.startsWith('big-')).sort()).toEqual([...seeded].sort());
  });

  it('two concurrent uploads of one name with different content both keep their bytes', async () => {
    const [a, b] = [pngOfSize(256 * 1024, 7), pngOfSize(256 * 1024, 8)];
    const answers = await Promise.all([upload('same.png', a, {}), upload('same.png', b, {})]);
    const names = answers.map((answer) => (JSON.parse(answer.body) as { name: string }).name);
    expect([...names].sort()).toEqual(['same (1).png', 'same.png']);
    expect((await readFile(join(inputDir, names[0]!))).equals(a)).toBe(true);
    expect((await readFile(join(inputDir, names[1]!))).equals(b)).toBe(true);
  });

  it('a client that disconnects halfway leaves no file, and the server carries on', async () => {
    const before = await readdir(inputDir, { recursive: true });
    const boundary = '----reelgraphcut';
    await new Promise<void>((done) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/upload/image', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 10 * 1024 * 1024 } });
      req.on('error', () => done());
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="cut.png"\r\n\r\n`);
      req.write(pngOfSize(2 * 1024 * 1024, 5), () => setTimeout(() => {
        req.destroy();
        done();
      }, 300));
    });
    // The server notices the drop and deletes the staging file.
    await expect.poll(() => readdir(inputDir, { recursive: true }), { timeout: 10_000 }).toEqual(before);
    expect((await upload('after.png', pngOfSize(16 * 1024, 3), {})).status).toBe(200);
  });
});

