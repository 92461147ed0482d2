import { describe, expect, it } from 'vitest';
import { migrateWorkflow, migrationsOf, type NodeMigration } from '../../../src/comfy/migrate.js';
import { convertWorkflow, parseWorkflow } from '../../../src/comfy/index.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';

const registry = createNodeRegistry();
const migrations = migrationsOf(registry);

function v0Workflow() {
  return {
    last_node_id: 2,
    last_link_id: 1,
    nodes: [
      { id: 1, type: 'LoadImage', mode: 0, outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1] }], properties: { 'Node name for S&R': 'LoadImage' }, widgets_values: ['a.jpg', 'image'] },
      {
        id: 2,
        type: 'RunwayI2V',
        mode: 0,
        inputs: [{ name: 'image', type: 'IMAGE', link: 1 }],
        outputs: [{ name: 'TASK', type: 'TASK', links: null }],
        properties: { 'Node name for S&R': 'RunwayI2V', ver: '0', my_plugin_note: 'keep me' },
        widgets_values: ['cometapi', 'gen3a_turbo', 'Clouds', '1280:768', 5, 7, 'randomize'],
        my_unknown_node_key: { nested: [1, 2, 3] },
      },
    ],
    links: [[1, 1, 0, 2, 0, 'IMAGE']],
    extra: { ds: { scale: 1, offset: [0, 0] }, someone_elses: { x: 1 } },
    my_top_level_key: 'survives',
    version: 0.4,
  };
}

describe('migrateWorkflow', () => {
  it('gives a v0 RunwayI2V watermark:false and records version 1', () => {
    const { json, applied } = migrateWorkflow(v0Workflow(), migrations);
    expect(applied).toEqual([expect.objectContaining({ nodeId: '2', type: 'RunwayI2V', from: 0, to: 1 })]);
    const node = (json as ReturnType<typeof v0Workflow>).nodes[1]!;
    expect(node.widgets_values).toEqual(['cometapi', 'gen3a_turbo', 'Clouds', '1280:768', 5, 7, 'randomize', false]);
    expect(node.properties.ver).toBe('1');
    const parsed = parseWorkflow(json, registry);
    expect(parsed.graph.nodes.get('2')!.params).toMatchObject({ watermark: false, seed: 7, promptText: 'Clouds' });
    expect(parsed.graph.nodes.get('2')!.version).toBe(1);
  });

  it('keeps unknown keys at every level through load and re-save', () => {
    const { json } = migrateWorkflow(v0Workflow(), migrations);
    const saved = convertWorkflow(json, 'ui', registry) as ReturnType<typeof v0Workflow>;
    expect(saved.my_top_level_key).toBe('survives');
    expect(saved.extra.someone_elses).toEqual({ x: 1 });
    expect(saved.nodes[1]!.my_unknown_node_key).toEqual({ nested: [1, 2, 3] });
    expect(saved.nodes[1]!.properties.my_plugin_note).toBe('keep me');
    expect(saved.nodes[1]!.widgets_values).toContain('randomize');
  });

  it('migrates API prompts through _meta.version and leaves links alone', () => {
    const prompt = {
      '1': { class_type: 'LoadImage', inputs: { image: 'a.jpg' } },
      '2': { class_type: 'RunwayI2V', inputs: { provider: 'runway', image: ['1', 0] }, _meta: { title: 'Mine', version: 0 } },
    };
    const { json, applied } = migrateWorkflow(prompt, migrations);
    expect(applied).toHaveLength(1);
    expect((json as Record<string, unknown>)['2']).toEqual({
      class_type: 'RunwayI2V',
      inputs: { watermark: false, provider: 'runway', image: ['1', 0] },
      _meta: { title: 'Mine', version: 1 },
    });
    expect(prompt['2'].inputs).not.toHaveProperty('watermark');
  });

  it('leaves current and unversioned nodes untouched, and chains steps in order', () => {
    expect(migrateWorkflow({ nodes: [{ id: 1, type: 'RunwayI2V', widgets_values: ['runway'] }] }, migrations).applied).toEqual([]);
    const steps: NodeMigration[] = [
      { type: 'X', from: 1, to: 2, description: 'b', widgets: (v) => [...v, 'b'], inputs: (v) => v },
      { type: 'X', from: 0, to: 1, description: 'a', widgets: (v) => [...v, 'a'], inputs: (v) => v },
    ];
    const { json, applied } = migrateWorkflow({ nodes: [{ id: 5, type: 'X', version: 0, widgets_values: [] }] }, steps);
    expect(applied.map((a) => a.to)).toEqual([1, 2]);
    expect((json as { nodes: { widgets_values: unknown[]; version: number }[] }).nodes[0]).toMatchObject({ widgets_values: ['a', 'b'], version: 2 });
  });
});
