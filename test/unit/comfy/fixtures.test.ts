import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRegistry } from '../../../src/nodes/index.js';
import { parseWorkflow } from '../../../src/comfy/index.js';
import { validateGraph } from '../../../src/engine/validate.js';

/** The shared fixtures must be valid for the real five nodes, not only for the stand-ins. */
const FIXTURES = join(import.meta.dirname, '../../fixtures/workflows');
const env = { RUNWAYML_API_SECRET: `key_${'0'.repeat(128)}`, COMETAPI_KEY: 'test-key', RUNCOMFY_API_TOKEN: 'test-token' };

describe('shared workflow fixtures with the real nodes', () => {
  it.each(['runway-gen4.v04.json', 'runway-gen4.v1.json', 'runway-gen4.api.json', 'two-providers.v04.json', 'edited-graph.v04.json'])(
    '%s is valid',
    async (name) => {
      const registry = createNodeRegistry();
      const parsed = parseWorkflow(JSON.parse(await readFile(join(FIXTURES, name), 'utf8')), registry);
      const result = await validateGraph(parsed.graph, registry, { files: { inputDir: FIXTURES, outputDir: FIXTURES }, env });
      expect(result.issues).toEqual([]);
    },
  );

  it('invalid-many-problems.v04.json reports all five problems', async () => {
    const registry = createNodeRegistry();
    const parsed = parseWorkflow(JSON.parse(await readFile(join(FIXTURES, 'invalid-many-problems.v04.json'), 'utf8')), registry);
    const result = await validateGraph(parsed.graph, registry, { files: { inputDir: FIXTURES, outputDir: FIXTURES }, env });
    expect(result.issues.map((issue) => issue.type)).toEqual([
      'invalid_prompt', 'missing_node_type', 'value_not_in_list', 'value_not_in_list', 'value_smaller_than_min',
    ]);
  });
});
