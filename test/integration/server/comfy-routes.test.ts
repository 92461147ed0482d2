import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, postJson, raw, startTestServer, type RawResponse, type TestServer } from '../../helpers/test-server.js';

/** Every route issue 14 lists, answering in ComfyUI's shape (docs/comfyui.md "Subgraphs…" §5), one row each. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await mkdir(join(server.inputDir, 'clips'), { recursive: true });
  const png = await sharp({ create: { width: 8, height: 4, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
  await writeFile(join(server.inputDir, 'frame.png'), png);
  await writeFile(join(server.inputDir, 'clips', 'b.jpg'), await sharp(png).jpeg().toBuffer());
  await writeFile(join(server.inputDir, 'notes.txt'), 'not an image');
});
afterAll(() => server.close());

interface Row {
  name: string;
  request: () => Promise<RawResponse>;
  status: number;
  check?: (response: RawResponse) => void | Promise<void>;
}

const get = (path: string) => () => raw(server.port, 'GET', path);

const ROWS: Row[] = [
  { name: 'POST /free → 200, empty body', request: () => postJson(server.port, '/free', { unload_models: true, free_memory: true }), status: 200, check: (r) => expect(r.body.length).toBe(0) },
  { name: 'POST /api/free too', request: () => postJson(server.port, '/api/free', {}), status: 200 },
  { name: 'GET /users → single user', request: get('/users'), status: 200, check: (r) => expect(r.json()).toEqual({ storage: 'server', migrated: true }) },
  { name: 'GET /settings → {} when none', request: get('/api/settings'), status: 200, check: (r) => expect(r.json()).toEqual({}) },
  { name: 'GET /settings/{id} → null when unset', request: get('/settings/Comfy.Locale'), status: 200, check: (r) => expect(r.json()).toBeNull() },
  { name: 'GET /userdata without dir → 400 plain text', request: get('/userdata'), status: 400, check: (r) => expect(r.body.toString()).toBe('Directory not provided') },
  { name: 'GET /userdata?dir=workflows → 404 when missing', request: get('/userdata?dir=workflows'), status: 404, check: (r) => expect(r.body.toString()).toBe('Directory not found') },
  { name: 'GET /userdata?dir=../.. → 403', request: get('/userdata?dir=..%2F..'), status: 403, check: (r) => expect(r.body.toString()).toBe('Invalid directory') },
  { name: 'GET /models → []', request: get('/models'), status: 200, check: (r) => expect(r.json()).toEqual([]) },
  { name: 'GET /models/{folder} → 404', request: get('/api/models/checkpoints'), status: 404 },
  { name: 'GET /experiment/models → []', request: get('/experiment/models'), status: 200, check: (r) => expect(r.json()).toEqual([]) },
  { name: 'GET /experiment/models/{folder} → 404', request: get('/experiment/models/loras'), status: 404 },
  { name: 'GET /internal/logs → one JSON string', request: get('/internal/logs'), status: 200, check: (r) => expect(typeof r.json()).toBe('string') },
  {
    name: 'GET /internal/logs/raw → entries and size', request: get('/internal/logs/raw'), status: 200,
    check: (r) => expect(r.json()).toEqual({ entries: [], size: { cols: expect.any(Number), rows: expect.any(Number) } }),
  },
  { name: 'GET /api/jobs → jobs and pagination', request: get('/api/jobs'), status: 200, check: (r) => expect(r.json()).toEqual({ jobs: [], pagination: { offset: 0, limit: null, total: 0, has_more: false } }) },
  { name: 'GET /api/jobs?limit=0 → 400', request: get('/api/jobs?limit=0'), status: 400, check: (r) => expect(r.json()).toHaveProperty('error') },
  { name: 'GET /api/jobs?status=bogus → 400', request: get('/api/jobs?status=bogus'), status: 400 },
  { name: 'GET /api/jobs/{unknown} → 404 Job not found', request: get('/api/jobs/nope'), status: 404, check: (r) => expect(r.json()).toEqual({ error: 'Job not found' }) },
  { name: 'GET /view_metadata/output for a missing file → 404', request: get('/view_metadata/output?filename=none.mp4'), status: 404 },
  { name: 'GET /view_metadata for a non-video → 404', request: get('/view_metadata/input?filename=frame.png'), status: 404 },
  {
    name: 'GET /object_info: LoadImage lists the input images with image_upload', request: get('/object_info/LoadImage'), status: 200,
    check: (r) => expect(r.json<{ LoadImage: { input: { required: { image: unknown } } } }>().LoadImage.input.required.image).toEqual([['clips/b.jpg', 'frame.png'], expect.objectContaining({ image_upload: true })]),
  },
  {
    name: "GET /object_info lists ComfyUI's Runway nodes as aliases", request: get('/object_info'), status: 200,
    check: (r) => {
      const info = r.json<Record<string, { input_order: { required: string[] }; reelgraph_alias_of?: string[] }>>();
      expect(info.RunwayImageToVideoNodeGen4!.input_order.required).toEqual(['prompt', 'start_frame', 'duration', 'ratio', 'seed']);
      expect(info.RunwayImageToVideoNodeGen3a!.reelgraph_alias_of).toEqual(['ValidateImage', 'RunwayI2V', 'Poll']);
    },
  },
];

describe('ComfyUI routes', () => {
  it.each(ROWS)('$name', async ({ request, status, check }) => {
    const response = await request();
    expect(response.status).toBe(status);
    await check?.(response);
  });

  it('POST /settings stores in the state folder and GET reads it back', async () => {
    expect((await postJson(server.port, '/settings', { 'Comfy.Locale': 'de' })).status).toBe(200);
    expect((await postJson(server.port, '/settings/Comfy.UseNewMenu', 'Top')).status).toBe(200);
    expect((await raw(server.port, 'GET', '/settings')).json()).toEqual({ 'Comfy.Locale': 'de', 'Comfy.UseNewMenu': 'Top' });
    expect((await raw(server.port, 'GET', '/settings/Comfy.Locale')).json()).toBe('de');
  });

  it('POST /userdata/{file} stores a workflow; GET /userdata lists it, full_info and split too; DELETE removes it', async () => {
    const body = JSON.stringify({ nodes: [] });
    expect((await raw(server.port, 'POST', '/userdata/workflows%2Fsub%2Fb.json', { body })).status).toBe(200);
    expect((await raw(server.port, 'POST', '/userdata/workflows%2Fa.json', { body })).status).toBe(200);
    expect((await raw(server.port, 'GET', '/userdata?dir=workflows')).json()).toEqual(['a.json']);
    expect((await raw(server.port, 'GET', '/userdata?dir=workflows&recurse=true')).json()).toEqual(['a.json', 'sub/b.json']);
    expect((await raw(server.port, 'GET', '/userdata?dir=workflows&recurse=true&split=true')).json()).toEqual([['a.json', 'a.json'], ['sub/b.json', 'sub', 'b.json']]);
    const [info] = (await raw(server.port, 'GET', '/userdata?dir=workflows&full_info=true')).json<{ path: string; size: number; modified: number }[]>();
    expect(info).toMatchObject({ path: 'a.json', size: body.length, modified: expect.any(Number), created: expect.any(Number) });
    expect((await raw(server.port, 'GET', '/userdata/workflows%2Fa.json')).body.toString()).toBe(body);
    expect((await raw(server.port, 'DELETE', '/userdata/workflows%2Fa.json')).status).toBe(204);
    expect((await raw(server.port, 'GET', '/userdata/workflows%2Fa.json')).status).toBe(404);
  });

  it("POST /upload/mask puts the mask's alpha on the original, as an image upload", async () => {
    const mask = await sharp({ create: { width: 8, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const form = multipart('frame-mask.png', mask, { original_ref: JSON.stringify({ filename: 'frame.png', type: 'input' }), type: 'input' });
    const response = await raw(server.port, 'POST', '/upload/mask', { headers: { 'content-type': form.contentType }, body: form.body });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ name: 'frame-mask.png', subfolder: '', type: 'input' });
    const { data, info } = await sharp(join(server.inputDir, 'frame-mask.png')).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect([data[0], data[3]]).toEqual([200, 128]);
  });
});
