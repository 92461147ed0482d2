import { LGraphNode, LiteGraph, type LGraph } from '@comfyorg/litegraph';
import { subgraphTypes } from './subgraph-nodes.js';

/** litegraph does not export its node JSON type by name. */
type ISerialisedNode = NonNullable<LGraphNode['last_serialization']>;

/**
 * Nodes whose type this editor does not have. litegraph's LGraph.configure loads them as a
 * bare LGraphNode holding the saved JSON in `last_serialization`, and serialize() gives that
 * JSON back unchanged, so the type, widgets_values and links survive a re-save. What it
 * loses: the title (it shows "Unnamed") and any move, resize or mode change. We fix both here.
 */

/** Node types in a UI workflow or API prompt that no registered litegraph type (or subgraph definition) provides. */
export function missingNodeTypes(data: unknown): string[] {
  if (!isRecord(data)) return [];
  const subgraphs = subgraphTypes(data);
  const entries = Array.isArray(data.nodes) ? (data.nodes as unknown[]) : Object.values(data);
  const types = entries.map((node) => (isRecord(node) ? (node.type ?? node.class_type) : undefined)).filter((type): type is string => typeof type === 'string');
  return [...new Set(types)].filter((type) => !Object.hasOwn(LiteGraph.registered_node_types, type) && !subgraphs.has(type));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Titles placeholders after their missing type and keeps their layout edits on save. */
export function keepPlaceholders(graph: LGraph, subgraphTypes: ReadonlyMap<string, string> = new Map()): void {
  for (const node of graph.nodes) {
    const original = node.last_serialization;
    // Only litegraph's stand-in: a registered node class never carries a last_serialization of its own.
    // Subgraph instances are not missing: subgraph-nodes.ts shows them.
    if (!original || node.constructor !== LGraphNode || subgraphTypes.has(String(original.type))) continue;
    const type = String(original.type);
    node.title = original.title && original.title !== type ? `${original.title} (missing ${type})` : `${type} (missing)`;
    node.serialize = () => placeholderJson(node, original);
  }
}

/** The saved JSON as loaded, with the current position, size, mode and links. */
export function placeholderJson(node: LGraphNode, original: ISerialisedNode): ISerialisedNode {
  return {
    ...original,
    pos: [node.pos[0], node.pos[1]],
    size: [node.size[0], node.size[1]],
    flags: { ...node.flags },
    order: node.order,
    mode: node.mode,
    inputs: original.inputs?.map((input, index) => ({ ...input, link: node.inputs[index]?.link ?? null })),
    outputs: original.outputs?.map((output, index) => ({ ...output, links: node.outputs[index]?.links ?? null })),
  };
}
