import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_FORMATS, BufferSource, Input } from 'mediabunny';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedWorkflowMetadata, readWorkflowMetadata, scrubSecrets } from '../../../src/sharing/provenance.js';
import { makeFastStart, makeMp4, topLevelTypes, videoPackets } from '../../helpers/mp4.js';

const workflow = {
  last_node_id: 2,
  nodes: [{ id: 1, type: 'LoadImage', widgets_values: ['café ☕.jpg', 'image'] }, { id: 2, type: 'RunwayI2V', widgets_values: ['runway', 'gen4_turbo', 'A "quoted" prompt\nwith lines', '1280:720', 5, 42, 'fixed', false] }],
  links: [],
  extra: { ds: { scale: 1, offset: [0, 0] } },
  version: 0.4,
};
const prompt = { '1': { class_type: 'LoadImage', inputs: { image: 'café ☕.jpg' } } };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-provenance-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('embedWorkflowMetadata / readWorkflowMetadata', () => {
  it.each([
    ['moov after mdat', false],
    ['moov before mdat (fast start)', true],
  ])('round-trips the workflow and keeps every video packet byte-identical (%s)', async (_label, fastStart) => {
    const plain = join(dir, `plain-${fastStart}.mp4`);
    await makeMp4(plain);
    const file = join(dir, `video-${fastStart}.mp4`);
    if (fastStart) await makeFastStart(plain, file);
    else await makeMp4(file);
    const order = await topLevelTypes(file);
    expect(order.indexOf('moov') < order.indexOf('mdat')).toBe(fastStart);
    const before = await videoPackets(file);
    expect(before.length).toBe(5);

    await embedWorkflowMetadata(file, { workflow, prompt });

    expect(await readWorkflowMetadata(file)).toEqual({ workflow, prompt });
    const after = await videoPackets(file);
    expect(after.map((p) => p.timestamp)).toEqual(before.map((p) => p.timestamp));
    after.forEach((packet, i) => expect(packet.data.equals(before[i]!.data)).toBe(true));
  });

  it('replaces earlier values on a second embed instead of adding duplicates', async () => {
    const file = join(dir, 'twice.mp4');
    await makeMp4(file);
    await embedWorkflowMetadata(file, { workflow: { v: 1 }, prompt: { p: 1 } });
    await embedWorkflowMetadata(file, { workflow: { v: 2 } });
    expect(await readWorkflowMetadata(file)).toEqual({ workflow: { v: 2 }, prompt: { p: 1 } });
    const text = (await readFile(file)).toString('latin1');
    expect(text.split('mdtaworkflow').length - 1).toBe(1);
  });

  it('writes mdta tags another MP4 reader (mediabunny) sees as JSON strings under "workflow" and "prompt"', async () => {
    const file = join(dir, 'interop.mp4');
    await makeMp4(file);
    await embedWorkflowMetadata(file, { workflow, prompt });
    const input = new Input({ source: new BufferSource(await readFile(file)), formats: ALL_FORMATS });
    const raw = (await input.getMetadataTags()).raw ?? {};
    expect(JSON.parse(raw.workflow as string)).toEqual(workflow);
    expect(JSON.parse(raw.prompt as string)).toEqual(prompt);
  });

  it('reads keys case-insensitively, as ComfyUI does', async () => {
    const file = join(dir, 'upper.mp4');
    await makeMp4(file);
    await embedWorkflowMetadata(file, { workflow: { w: 1 }, prompt: { p: 1 } });
    // Same length, so every offset in the file stays valid.
    const bytes = (await readFile(file)).toString('latin1').replace('mdtaworkflow', 'mdtaWorkFlow').replace('mdtaprompt', 'mdtaPROMPT');
    await writeFile(file, Buffer.from(bytes, 'latin1'));
    expect(await readWorkflowMetadata(file)).toEqual({ workflow: { w: 1 }, prompt: { p: 1 } });
  });

  it('returns nothing for a video without metadata', async () => {
    const file = join(dir, 'bare.mp4');
    await makeMp4(file);
    expect(await readWorkflowMetadata(file)).toEqual({});
  });

  it('rejects a file that is not an MP4 with one sentence', async () => {
    const file = join(dir, 'not.mp4');
    await writeFile(file, 'hello world, not a movie');
    await expect(readWorkflowMetadata(file)).rejects.toThrow(/not an MP4 file/);
  });

  it('never writes a provider key from the environment or a credential-named field', async () => {
    const key = `key_${'ab'.repeat(64)}`;
    const env = { RUNWAYML_API_SECRET: key };
    const file = join(dir, 'secret.mp4');
    await makeMp4(file);
    const leaky = { nodes: [{ id: 1, widgets_values: [`prefix ${key}`], properties: { api_key: 'sk-123456789', note: 'kept' } }] };
    await embedWorkflowMetadata(file, { workflow: leaky, prompt: { extra: { auth_token_comfy_org: 'tok-123456789' } } }, { env });
    const bytes = (await readFile(file)).toString('latin1');
    expect(bytes).not.toContain(key);
    expect(bytes).not.toContain('sk-123456789');
    expect(bytes).not.toContain('tok-123456789');
    expect(await readWorkflowMetadata(file)).toEqual({
      workflow: { nodes: [{ id: 1, widgets_values: ['prefix [redacted]'], properties: { note: 'kept' } }] },
      prompt: { extra: {} },
    });
  });
});

describe('scrubSecrets', () => {
  it('leaves ordinary values alone', () => {
    const value = { a: [1, 'two', null, { seed: 3 }], b: true };
    expect(scrubSecrets(value, {})).toEqual(value);
  });
});
