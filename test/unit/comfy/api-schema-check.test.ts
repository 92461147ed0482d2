import { describe, expect, it } from 'vitest';
import { parseWorkflow } from '../../../src/comfy/index.js';
import { ApiPromptSchema, fitsApiPromptSchema } from '../../../src/comfy/schemas.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';

/** The in-place check that lets a well-formed API prompt skip the schema's copying pass: never looser than the schema. */

const registry = createNodeRegistry();

const wellFormed: unknown[] = [
  {},
  { '1': { class_type: 'LoadImage' } },
  { '1': { class_type: 'LoadImage', inputs: { image: 'a.png' }, _meta: { title: 'Mine', version: 1, extra: true }, other: [1] } },
  { '1': { class_type: 'Poll', inputs: { task: ['2', 0] } }, '2': { class_type: 'RunwayI2V', inputs: Object.create(null) } },
];

const malformed: unknown[] = [
  { '1': { class_type: 7 } },
  { '1': { class_type: 'LoadImage', inputs: ['a.png'] } },
  { '1': { class_type: 'LoadImage', inputs: 'a.png' } },
  { '1': { class_type: 'LoadImage', inputs: null } },
  { '1': { class_type: 'LoadImage', _meta: { title: 5 } } },
  { '1': { class_type: 'LoadImage', _meta: { version: '1' } } },
  { '1': { class_type: 'LoadImage', _meta: { version: Infinity } } },
  { '1': { class_type: 'LoadImage', _meta: { version: NaN } } },
  { '1': { class_type: 'LoadImage', _meta: [] } },
  { '1': { class_type: 'LoadImage', inputs: new Map() } },
  { '1': null },
  { '1': [] },
];

describe('fitsApiPromptSchema', () => {
  it('accepts well-formed prompts, as the schema does', () => {
    for (const doc of wellFormed) {
      expect(fitsApiPromptSchema(doc)).toBe(true);
      expect(ApiPromptSchema.safeParse(doc).success).toBe(true);
    }
  });

  it('refuses every prompt the schema refuses', () => {
    for (const doc of malformed) {
      expect(ApiPromptSchema.safeParse(doc).success).toBe(false);
      expect(fitsApiPromptSchema(doc)).toBe(false);
    }
  });

  it('leaves the schema to word the message for a malformed prompt', () => {
    expect(() => parseWorkflow({ '1': { class_type: 'LoadImage', inputs: ['a.png'] } }, registry)).toThrow(
      /^The API prompt is malformed at 1\.inputs: .+\.$/,
    );
    expect(() => parseWorkflow({ '1': { class_type: 'LoadImage', _meta: { version: '1' } } }, registry)).toThrow(
      /^The API prompt is malformed at 1\._meta\.version: .+\.$/,
    );
  });

  it('parses a well-formed prompt to the same graph and api as before (api read on demand)', () => {
    const prompt = { '1': { class_type: 'LoadImage', inputs: { image: 'a.png', list: { __value__: [1, 2] } } }, '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] }, _meta: { title: 'Check' } } };
    const parsed = parseWorkflow(prompt, registry);
    expect(parsed.graph.nodes.get('1')!.params).toEqual({ image: 'a.png', list: [1, 2] });
    expect(parsed.graph.nodes.get('2')!.inputs).toEqual({ image: { from: '1', slot: 0 } });
    expect(parsed.api).toEqual(prompt);
    expect({ ...parsed }.api).toBe(parsed.api);
  });
});
