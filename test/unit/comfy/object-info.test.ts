import { describe, expect, it } from 'vitest';
import { objectInfo } from '../../../src/comfy/object-info.js';
import { NodeRegistry } from '../../../src/engine/registry.js';
import { fixtureNodes, testNodes } from '../../helpers/test-nodes.js';

const info = objectInfo(new NodeRegistry([...fixtureNodes(), ...testNodes()]));

describe('objectInfo', () => {
  it('describes RunwayI2V the way ComfyUI describes its Runway nodes', () => {
    const runway = info.RunwayI2V!;
    expect(runway.input.required.image).toEqual(['IMAGE']);
    expect(runway.input.required.provider).toEqual([['runcomfy', 'cometapi', 'runway'], { default: 'runway' }]);
    expect(runway.input.required.duration).toEqual([[5, 10], { default: 5 }]);
    expect(runway.input.required.seed).toEqual(['INT', { default: 0, min: 0, max: 4294967295, step: 1, control_after_generate: true }]);
    expect(runway.input.required.promptText).toEqual(['STRING', { default: '', multiline: true }]);
    expect(runway.input.required.watermark).toEqual(['BOOLEAN', { default: false }]);
    expect(runway.input_order).toEqual({
      required: ['image', 'provider', 'model', 'promptText', 'ratio', 'duration', 'seed', 'watermark'],
      optional: [],
    });
    expect(runway).toMatchObject({
      output: ['TASK'], output_is_list: [false], output_name: ['TASK'], name: 'RunwayI2V', display_name: 'Runway Image to Video',
      category: 'api node/video/Runway', output_node: false, api_node: true, version: 1,
    });
    expect(runway.params_schema).toMatchObject({ type: 'object', properties: { promptText: { type: 'string', maxLength: 1000 } } });
  });

  it('marks output nodes, floats, image upload widgets and optional sockets', () => {
    expect(info.SaveVideo).toMatchObject({ output_node: true, api_node: false, output: [] });
    expect(info.Poll!.input.required.interval_s).toEqual(['FLOAT', { default: 5, min: 0.05, max: 600 }]);
    expect(info.LoadImage!.input.required.image).toEqual(['STRING', { multiline: false, image_upload: true }]);
    expect(info.TestSink!.input.optional).toEqual({ extra: ['VIDEO'] });
    expect(info.TestSink!.input_order).toEqual({ required: ['task', 'prefix'], optional: ['extra'] });
  });
});
