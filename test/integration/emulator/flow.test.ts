import { ALL_FORMATS, BufferSource, Input } from 'mediabunny';
import { afterAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../../src/providers/registry.js';
import type { ProviderId, SubmitRequest } from '../../../src/providers/provider.js';
import { createHttpClient } from '../../../src/http/client.js';
import { manualNow, useEmulator } from '../../helpers/emulator.js';

/** Submit → poll → download against the emulator with each real adapter, and check the MP4. */

const clock = manualNow();
const fixture = await useEmulator({ now: clock.now, timing: { queuedMs: 1000, runningMs: 2000 } });
const http = createHttpClient({ retry: { maxAttempts: 1 } });
afterAll(() => http.close());

async function probe(bytes: Uint8Array): Promise<{ duration: number; width: number; height: number; codec: string | null }> {
  const input = new Input({ source: new BufferSource(bytes), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error('no video track');
  return { duration: await input.computeDuration(), width: track.displayWidth, height: track.displayHeight, codec: track.codec };
}

const cases: { provider: ProviderId; request: Omit<SubmitRequest, 'promptImage'>; width: number; height: number }[] = [
  { provider: 'runway', request: { model: 'gen4_turbo', ratio: '1280:720', duration: 5, promptText: 'a calm sea' }, width: 160, height: 90 },
  { provider: 'runcomfy', request: { model: 'gen4_turbo', ratio: '720:1280', duration: 5 }, width: 160, height: 284 },
  { provider: 'cometapi', request: { model: 'gen3a_turbo', ratio: '1280:768', duration: 10, promptText: 'waves' }, width: 160, height: 96 },
];

describe('submit, poll and download through the emulator', () => {
  it.each(cases)('$provider runs a job from queued to a playable MP4', async ({ provider, request, width, height }) => {
    const adapter = createProvider(provider, { baseUrl: fixture.emulator.url, apiKey: 'test-key', http });
    const { taskId } = await adapter.submit({ ...request, promptImage: fixture.imageUrl });
    expect((await adapter.getTask(taskId)).state).toBe('queued');
    clock.advance(1500);
    const running = await adapter.getTask(taskId);
    expect(running.state).toBe('running');
    clock.advance(2000);
    const done = await adapter.getTask(taskId);
    if (done.state !== 'succeeded') throw new Error(`expected succeeded, got ${done.state}`);
    const res = await http.request({ method: 'GET', url: done.videoUrls[0]!, kind: 'download' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp4');
    const info = await probe(new Uint8Array(Buffer.from(await res.body.toArray().then((c) => Buffer.concat(c as Buffer[])))));
    expect(info.codec).toBe('avc');
    expect(info.width).toBe(width);
    expect(info.height).toBe(height);
    expect(info.duration).toBeCloseTo(request.duration, 0);
    expect(fixture.emulator.creates(provider)).toBe(1);
  });
});
