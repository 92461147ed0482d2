import { describe, expect, it } from 'vitest';
import { makeImage, useEmulator } from '../../helpers/emulator.js';

/** The emulator rejects what the real services reject, in each provider's own error shape. */

const fixture = await useEmulator();
const { emulator, images, imageUrl } = fixture;
const RUNWAY_KEY = `key_${'0'.repeat(128)}`;

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${RUNWAY_KEY}`, 'X-Runway-Version': '2024-11-06', 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const runway = (body: Record<string, unknown>) => post('/v1/image_to_video', { model: 'gen4_turbo', promptImage: imageUrl, ratio: '1280:720', duration: 5, ...body });
const comet = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  post('/runwayml/v1/image_to_video', { model: 'gen3a_turbo', promptImage: imageUrl, promptText: 'x', ratio: '1280:768', duration: 5, ...body }, headers);
const GEN4 = '/v1/models/runwayml/runway-gen-4/turbo/image-to-video';
const GEN3A = '/v1/models/runwayml/runway-gen-3-alpha/turbo/image-to-video';

describe('Runway validation', () => {
  it('accepts a valid body and returns the id and estimated cost', async () => {
    const res = await runway({ duration: 10 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ estimatedCost: { credits: 50 } });
    expect(typeof res.body.id).toBe('string');
  });

  it('rejects gen3a_turbo with a zod-style 400', async () => {
    const res = await runway({ model: 'gen3a_turbo', ratio: '1280:768' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Validation of body failed');
    expect(res.body.docUrl).toBe('https://docs.dev.runwayml.com/api');
    expect(res.body.issues).toEqual([expect.objectContaining({ path: ['model'], message: expect.stringMatching(/^Invalid (option|input): expected .*"gen4_turbo"/) })]);
  });

  it.each([
    [{ ratio: '1280:768' }, 'ratio'],
    [{ duration: 11 }, 'duration'],
    [{ duration: 1 }, 'duration'],
    [{ promptText: 'x'.repeat(1001) }, 'promptText'],
    [{ seed: 4294967296 }, 'seed'],
    [{ seed: -1 }, 'seed'],
  ])('rejects %j naming %s', async (body, field) => {
    const res = await runway(body);
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: [field] })]);
  });

  it('requires X-Runway-Version', async () => {
    const missing = await fetch(`${emulator.url}/v1/image_to_video`, { method: 'POST', headers: { Authorization: `Bearer ${RUNWAY_KEY}` }, body: '{}' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/X-Runway-Version/);
  });

  it('rejects a missing key with 401, and a malformed one only with strictKeys', async () => {
    const noKey = await fetch(`${emulator.url}/v1/image_to_video`, { method: 'POST', headers: { 'X-Runway-Version': '2024-11-06' }, body: '{}' });
    expect(noKey.status).toBe(401);
    emulator.configure({ strictKeys: true });
    try {
      expect((await post('/v1/image_to_video', {}, { Authorization: 'Bearer not-a-runway-key' })).status).toBe(401);
      expect((await runway({})).status).toBe(200);
    } finally {
      emulator.configure({ strictKeys: false });
    }
  });

  it('takes a small data URI and refuses one over 5 MiB', async () => {
    const png = await makeImage(64, 48);
    expect((await runway({ promptImage: `data:image/png;base64,${png.toString('base64')}` })).status).toBe(200);
    const huge = await runway({ promptImage: `data:image/png;base64,${'A'.repeat(5 * 1024 * 1024)}` });
    expect(huge.status).toBe(400);
    expect(String(huge.body.error)).toMatch(/promptImage data URI is \d+ bytes, over the 5242880-byte limit/);
  });
});

describe('image checks', () => {
  it.each([
    ['gif.gif', () => makeImage(64, 64, 'gif'), /format gif is not supported/],
    ['wide.png', () => makeImage(300, 100), /aspect ratio 3\.000 .* strictly between 1:2 and 2:1/],
    ['exact.png', () => makeImage(200, 100), /aspect ratio 2\.000/],
    ['junk.png', async () => Buffer.from('not an image'), /not a readable image/],
  ])('rejects %s', async (name, make, message) => {
    const url = images.put(name, await make());
    const res = await runway({ promptImage: url });
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toMatch(message);
  });

  it('reports an image URL that does not answer 200', async () => {
    const res = await runway({ promptImage: `${images.url}/missing.png` });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Failed to fetch asset for promptImage. Received HTTP response code 404');
  });
});

describe('RunComfy validation', () => {
  it('returns absolute status, result and cancel URLs', async () => {
    const res = await post(GEN4, { promptImage: imageUrl, ratio: '960:960', duration: 5 });
    expect(res.status).toBe(200);
    const id = String(res.body.request_id);
    expect(res.body).toEqual({ request_id: id, status_url: `${emulator.url}/v1/requests/${id}/status`, result_url: `${emulator.url}/v1/requests/${id}/result`, cancel_url: `${emulator.url}/v1/requests/${id}/cancel` });
  });

  it('rejects data URIs with 422', async () => {
    const png = await makeImage(64, 48);
    const res = await post(GEN4, { promptImage: `data:image/png;base64,${png.toString('base64')}`, ratio: '960:960', duration: 5 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 422001, detail: [{ loc: ['body', 'promptImage'] }] });
  });

  it('requires promptText for gen3a and reports the field in detail', async () => {
    const res = await post(GEN3A, { promptImage: imageUrl, ratio: '1280:768', duration: 5 });
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'promptText'] })]);
  });

  it('answers an unknown model with error_code 400001', async () => {
    const res = await post('/v1/models/runwayml/nope/image-to-video', {});
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe(400001);
  });

  it('can send errors under HTTP 200, as some RunComfy APIs do', async () => {
    emulator.configure({ runcomfyErrorsAs200: true });
    try {
      const res = await post(GEN4, { promptImage: imageUrl, ratio: '1:1', duration: 5 });
      expect(res.status).toBe(200);
      expect(res.body.error_code).toBe(422001);
    } finally {
      emulator.configure({ runcomfyErrorsAs200: false });
    }
  });
});

describe('CometAPI validation', () => {
  it('requires X-Runway-Version and uses the error envelope', async () => {
    const res = await comet({}, { 'X-Runway-Version': '' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { message: 'X-Runway-Version header is required', type: 'comet_api_error', param: 'X-Runway-Version', code: 'invalid_request' } });
  });

  it.each([
    [{ seed: 1_000_000_000 }, 'seed'],
    [{ promptText: 'x'.repeat(513) }, 'promptText'],
    [{ watermark: 'yes' }, 'watermark'],
    [{ ratio: '16:9' }, 'ratio'],
    [{ duration: 7 }, 'duration'],
  ])('rejects %j naming %s', async (body, param) => {
    const res = await comet(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param, code: 'invalid_request' });
  });

  // The seed document: all eight ratios and an optional promptText for gen3a_turbo; a minimal body is accepted.
  it.each(['1280:720', '1584:672', '1280:768'])('accepts gen3a_turbo at %s with no prompt', async (ratio) => {
    const res = await comet({ model: 'gen3a_turbo', ratio, promptText: undefined });
    expect(res.status).toBe(200);
  });

  it('accepts gen4_turbo with a gen4 ratio', async () => {
    const res = await comet({ model: 'gen4_turbo', ratio: '1280:720' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['id']);
  });
});
