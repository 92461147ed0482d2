import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

/**
 * The emulator's Runway ephemeral uploads, driven over HTTP as the documents describe them
 * (docs/providers.md §3, §7): POST /v1/uploads, a multipart POST of the fields and the file to
 * uploadUrl, then promptImage: runwayUri. Unknown runway:// URIs are refused.
 */

const KEY = `key_${'0'.repeat(128)}`;
const HEADERS = { Authorization: `Bearer ${KEY}`, 'X-Runway-Version': '2024-11-06', 'Content-Type': 'application/json' };
let emulator: Emulator;
let jpeg: Buffer;

beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 50 } });
  jpeg = await sharp({ create: { width: 1280, height: 720, channels: 3, background: 'teal' } }).jpeg().toBuffer();
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.reset());

async function requestUpload(filename = 'photo.jpg') {
  const res = await fetch(`${emulator.url}/v1/uploads`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ filename, type: 'ephemeral' }) });
  return { status: res.status, body: (await res.json()) as { uploadUrl: string; fields: Record<string, string>; runwayUri: string } };
}

function create(promptImage: string) {
  return fetch(`${emulator.url}/v1/image_to_video`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ model: 'gen4_turbo', promptImage, ratio: '1280:720', duration: 5 }) });
}

function form(fields: Record<string, string>, file?: Buffer): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append('file', new Blob([new Uint8Array(file)], { type: 'image/jpeg' }), 'photo.jpg');
  return data;
}

describe('Runway ephemeral uploads on the emulator', () => {
  it('takes an upload and then a create with its runway:// URI', async () => {
    const upload = await requestUpload();
    expect(upload.status).toBe(200);
    expect(upload.body.uploadUrl.startsWith(emulator.url)).toBe(true);
    expect(upload.body.runwayUri).toMatch(/^runway:\/\//);
    const posted = await fetch(upload.body.uploadUrl, { method: 'POST', body: form(upload.body.fields, jpeg) });
    expect(posted.status).toBe(204);
    const created = await create(upload.body.runwayUri);
    expect(created.status).toBe(200);
    expect(emulator.creates('runway')).toBe(1);
  });

  it('refuses an unknown runway:// URI, and one whose file never arrived', async () => {
    const unknown = await create('runway://uploads/00000000-0000-4000-8000-000000000000/photo.jpg');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('unknown runway:// URI');
    const upload = await requestUpload();
    const unfinished = await create(upload.body.runwayUri);
    expect(unfinished.status).toBe(400);
    expect(JSON.stringify(await unfinished.json())).toContain('never received');
  });

  it('refuses a form whose issued fields changed, and a second file to the same URL', async () => {
    const upload = await requestUpload();
    const tampered = await fetch(upload.body.uploadUrl, { method: 'POST', body: form({ ...upload.body.fields, key: 'elsewhere' }, jpeg) });
    expect(tampered.status).toBe(403);
    expect(await fetch(upload.body.uploadUrl, { method: 'POST', body: form(upload.body.fields, jpeg) }).then((r) => r.status)).toBe(204);
    expect(await fetch(upload.body.uploadUrl, { method: 'POST', body: form(upload.body.fields, jpeg) }).then((r) => r.status)).toBe(409);
  });

  it('validates the upload request like Runway validates bodies', async () => {
    const res = await fetch(`${emulator.url}/v1/uploads`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ filename: '../x.jpg', type: 'permanent' }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: string[] }[] };
    expect(body.error).toBe('Validation of body failed');
    expect(body.issues.map((issue) => issue.path[0]).sort()).toEqual(['filename', 'type']);
  });
});
