import type { Graph, GraphNode } from '../engine/graph.js';
import { isApiLink, type ApiNode, type ApiPrompt } from './schemas.js';
import { emptyRecord, fieldRecord } from '../engine/records.js';

/**
 * ComfyUI's API "prompt" format: `{id: {class_type, inputs, _meta}}`, where a linked
 * input is `[source id, output slot]` and an array widget value travels as
 * `{"__value__": [...]}` so it cannot be mistaken for a link.
 */

/** Our graph as an API prompt (what POST /prompt takes). Control values are not sent, as in ComfyUI. */
export function toApiPrompt(graph: Graph): ApiPrompt {
  const prompt: ApiPrompt = emptyRecord();
  for (const node of graph.nodes.values()) {
    const inputs: Record<string, unknown> = emptyRecord();
    for (const [name, value] of Object.entries(node.params)) {
      inputs[name] = Array.isArray(value) ? { __value__: value } : value;
    }
    for (const [name, link] of Object.entries(node.inputs)) inputs[name] = [link.from, link.slot];
    const entry: ApiNode = { class_type: node.type, inputs };
    const meta: NonNullable<ApiNode['_meta']> = {};
    if (node.title !== undefined) meta.title = node.title;
    if (node.version !== undefined) meta.version = node.version;
    if (Object.keys(meta).length > 0) entry._meta = meta;
    prompt[node.id] = entry;
  }
  return prompt;
}

/** An API prompt as our graph; links are recognised only by ComfyUI's exact is_link shape. */
export function apiToGraph(prompt: ApiPrompt): Graph {
  const graph: Graph = { nodes: new Map() };
  // for…in, not Object.entries: no pair arrays per node and input on a 100k-node prompt.
  for (const id in prompt) {
    if (!Object.hasOwn(prompt, id)) continue;
    const entry = prompt[id]!;
    const node: GraphNode = { id, type: entry.class_type, params: fieldRecord(), inputs: fieldRecord() };
    const inputs = entry.inputs ?? {};
    for (const name in inputs) {
      if (!Object.hasOwn(inputs, name)) continue;
      const value = inputs[name];
      if (isApiLink(value)) node.inputs[name] = { from: value[0], slot: value[1] };
      else node.params[name] = unwrapValue(value);
    }
    if (entry._meta?.title !== undefined) node.title = entry._meta.title;
    if (entry._meta?.version !== undefined) node.version = entry._meta.version;
    graph.nodes.set(id, node);
  }
  return graph;
}

function unwrapValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && '__value__' in value) {
    return (value as { __value__: unknown }).__value__;
  }
  return value;
}
