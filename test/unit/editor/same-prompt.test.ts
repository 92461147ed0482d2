import { readFileSync } from 'node:fs';
import { LGraph, LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { describe, expect, it } from 'vitest';
import { parseWorkflow } from '../../../src/comfy/index.js';
import { paramSpecs } from '../../../src/engine/params.js';
import { objectInfo } from '../../../src/comfy/object-info.js';
import type { ObjectInfo } from '../../../src/editor/object-info.js';
import { registerNodeTypes } from '../../../src/editor/register-nodes.js';
import { graphToApiPrompt } from '../../../src/editor/to-api.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';

/**
 * One saved file, two converters: the runtime's (what `reelgraph run` executes) and the editor's
 * (what Run in the browser posts), on a real litegraph graph. Both must send the same API prompt,
 * bypass and mute included (docs/comfyui.md "Subgraphs…" §1, the frontend's _getBypassSlotIndex).
 */

const registry = createNodeRegistry();
registerNodeTypes(objectInfo(registry) as unknown as ObjectInfo, {}, { pickImage() {}, changed() {} } as never);

/** A custom node the editor has no definition for: two IMAGE inputs, two IMAGE outputs. */
class SwapImages extends LGraphNode {
  constructor() {
    super('SwapImages');
    this.addInput('image_a', 'IMAGE');
    this.addInput('image_b', 'IMAGE');
    this.addOutput('IMAGE', 'IMAGE');
    this.addOutput('IMAGE', 'IMAGE');
  }
}
LiteGraph.registerNodeType('SwapImages', SwapImages);

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/**
 * class_type and inputs per node: _meta is display-only and the backend ignores it. A param the file predates
 * (LoadImage's `fit`) is written by the editor with its default and left out by the runtime, which applies the same
 * default when it runs: compare with defaults filled in.
 */
function comparable(prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>) {
  return Object.fromEntries(Object.entries(prompt).map(([id, node]) => [id, { class_type: node.class_type, inputs: withDefaults(node.class_type, node.inputs) }]));
}

function withDefaults(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const def = registry.get(type);
  if (!def) return inputs;
  const defaults = Object.fromEntries(paramSpecs(def).filter((spec) => spec.default !== undefined).map((spec) => [spec.name, spec.default]));
  return { ...defaults, ...inputs };
}

function viaEditor(doc: Record<string, unknown>) {
  const graph = new LGraph();
  graph.configure(structuredClone(doc) as never);
  return comparable(graphToApiPrompt(graph));
}

function viaRuntime(doc: Record<string, unknown>) {
  return comparable(parseWorkflow(structuredClone(doc), registry).api as never);
}

const FIXTURES = [
  'comfyui/bypass-two-images.v04.json',
  'workflows/runway-gen4.v04.json',
  'workflows/runway-gen4.v1.json',
  'workflows/two-providers.v04.json',
  'workflows/edited-graph.v04.json',
];

describe('the runtime and the editor convert a saved file to the same API prompt', () => {
  it.each(FIXTURES)('%s', (path) => {
    const doc = fixture(path);
    expect(viaEditor(doc)).toEqual(viaRuntime(doc));
  });

  it('a bypassed node with two inputs of one type passes the input in the slot of the output read', () => {
    const doc = fixture('comfyui/bypass-two-images.v04.json');
    const runtime = viaRuntime(doc);
    expect(runtime['3']).toBeUndefined();
    // ValidateImage reads output 1 of the bypassed SwapImages: input 1 (image_b, from node 2), not the first IMAGE input.
    expect(runtime['4']!.inputs.image).toEqual(['2', 0]);
    expect(viaEditor(doc)['4']!.inputs.image).toEqual(['2', 0]);
  });

  it('muting the bypassed node leaves its consumer unlinked in both', () => {
    const doc = fixture('comfyui/bypass-two-images.v04.json');
    (doc.nodes as { id: number; mode: number }[]).find((node) => node.id === 3)!.mode = 2;
    expect(viaRuntime(doc)['4']!.inputs.image).toBeUndefined();
    expect(viaEditor(doc)).toEqual(viaRuntime(doc));
  });
});
