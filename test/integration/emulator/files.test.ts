import { afterAll, describe, expect, it } from 'vitest';
import { RunComfyProvider } from '../../../src/providers/runcomfy.js';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { createHttpClient } from '../../../src/http/client.js';
import { manualNow, useEmulator } from '../../helpers/emulator.js';

/** Signed, expiring video URLs, Range requests, and the benchmark blob. */

const clock = manualNow();
const TTL_MS = 60_000;
const { emulator, imageUrl } = await useEmulator({ now: clock.now, timing: { queuedMs: 0, runningMs: 10 }, urlTtlMs: TTL_MS });
const http = createHttpClient({ retry: { maxAttempts: 1 } });
afterAll(() => http.close());
const config = { baseUrl: emulator.url, apiKey: 'test-key', http };

async function finishedVideoUrl(provider: RunComfyProvider | RunwayProvider): Promise<string> {
  const { taskId } = await provider.submit({ model: 'gen4_turbo', promptImage: imageUrl, ratio: '960:960', duration: 5 });
  clock.advance(20);
  const status = await provider.getTask(taskId);
  if (status.state !== 'succeeded') throw new Error(`expected succeeded, got ${status.state}`);
  return status.videoUrls[0]!;
}

describe('signed video URLs', () => {
  it('serve the video until the TTL passes, then answer 403 with XML', async () => {
    const url = await finishedVideoUrl(new RunComfyProvider(config));
    expect(url).toMatch(new RegExp(`^${emulator.url}/_files/[0-9a-f-]+\\.mp4\\?exp=\\d+&sig=[0-9a-f]{64}$`));
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    clock.advance(TTL_MS + 1);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(expired.headers.get('content-type')).toBe('application/xml');
    expect(await expired.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('Runway re-signs the output URL on every GET', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit({ model: 'gen4_turbo', promptImage: imageUrl, ratio: '1280:720', duration: 5 });
    clock.advance(20);
    const first = await runway.getTask(taskId);
    clock.advance(TTL_MS + 1);
    const second = await runway.getTask(taskId);
    if (first.state !== 'succeeded' || second.state !== 'succeeded') throw new Error('expected succeeded');
    expect(second.videoUrls[0]).not.toBe(first.videoUrls[0]);
    expect((await fetch(first.videoUrls[0]!)).status).toBe(403);
    expect((await fetch(second.videoUrls[0]!)).status).toBe(200);
  });

  it('refuses a tampered signature', async () => {
    const url = await finishedVideoUrl(new RunComfyProvider(config));
    const tampered = url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    const res = await fetch(tampered);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('SignatureDoesNotMatch');
  });
});

describe('Range requests', () => {
  it('answers 206 with Content-Range, and the pieces add up to the whole file', async () => {
    const url = await finishedVideoUrl(new RunComfyProvider(config));
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const head = await fetch(url, { headers: { Range: 'bytes=0-99' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-99/${whole.length}`);
    const rest = await fetch(url, { headers: { Range: 'bytes=100-' } });
    expect(rest.status).toBe(206);
    const joined = Buffer.concat([Buffer.from(await head.arrayBuffer()), Buffer.from(await rest.arrayBuffer())]);
    expect(joined.equals(whole)).toBe(true);
    const suffix = await fetch(url, { headers: { Range: 'bytes=-10' } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(whole.subarray(-10))).toBe(true);
    const beyond = await fetch(url, { headers: { Range: `bytes=${whole.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${whole.length}`);
  });
});

describe('benchmark blob', () => {
  it('streams N bytes that start like an MP4, with Range and HEAD', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const res = await fetch(`${emulator.url}/_emulator/blob/${size}.mp4`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(size));
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(size);
    expect(bytes.subarray(4, 12).toString('latin1')).toBe('ftypisom');
    expect(bytes.subarray(28, 32).toString('latin1')).toBe('free');
    expect(bytes.readUInt32BE(24)).toBe(size - 24);
    const tail = await fetch(`${emulator.url}/_emulator/blob/${size}.mp4`, { headers: { Range: 'bytes=20-39' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(20, 40))).toBe(true);
    const head = await fetch(`${emulator.url}/_emulator/blob/${size}.mp4`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(size));
    expect(emulator.log.filter((entry) => entry.provider === 'emulator' && entry.kind === 'download')).toHaveLength(3);
  });
});
