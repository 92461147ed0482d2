import type { Graph, GraphNode } from '../engine/graph.js';
import { planGraph } from '../engine/plan.js';
import type { NodeRegistry } from '../engine/registry.js';
import { paramsToWidgets } from './widgets.js';

/**
 * Our graph → a v0.4 UI workflow the ComfyUI frontend and our editor open, laid out
 * in columns by topological depth. Used for API → UI conversion; a file that was a UI
 * workflow is re-saved with updateUiWorkflowParams instead, which keeps everything.
 */

const COLUMN_WIDTH = 400;
const ROW_HEIGHT = 260;
const ORIGIN = 60;

type Tuple = [number, number | string, number, number | string, number, string];

interface UiSlot {
  name: string;
  type: string;
  link?: number | null;
  links?: number[] | null;
}

export function graphToUiWorkflow(graph: Graph, registry: NodeRegistry): Record<string, unknown> {
  const plan = planGraph(graph);
  const order = [...plan.order, ...[...graph.nodes.keys()].filter((id) => !plan.order.includes(id))];
  const depth = depthsOf(graph, order);
  const outputs = new Map(order.map((id) => [id, outputSlotsOf(graph, graph.nodes.get(id)!, registry)]));
  const links: Tuple[] = [];
  // Links first, so every output slot knows all its links before its node is written.
  const inputs = new Map(order.map((id) => [id, linkInputs(graph.nodes.get(id)!, registry, outputs, links)]));
  const rows = new Map<number, number>();
  const nodes = order.map((id, position) => {
    const column = depth.get(id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    return uiNode(graph.nodes.get(id)!, registry, { position, column, row, inputs: inputs.get(id)!, outputs: outputs.get(id)! });
  });
  const numericIds = order.filter((id) => /^\d+$/.test(id)).map(Number);
  return {
    last_node_id: Math.max(0, ...numericIds),
    last_link_id: links.length,
    nodes,
    links,
    groups: [],
    config: {},
    extra: { ds: { scale: 1, offset: [0, 0] } },
    version: 0.4,
  };
}

/** The node's input slots with link ids; adds each link to `links` and to its source slot. */
function linkInputs(node: GraphNode, registry: NodeRegistry, outputs: Map<string, UiSlot[]>, links: Tuple[]): UiSlot[] {
  return inputSlotsOf(node, registry).map((slot, index) => {
    const link = node.inputs[slot.name];
    const source = link ? outputs.get(link.from)?.[link.slot] : undefined;
    // A link to a missing node or slot cannot be drawn; the input is left unconnected.
    if (!link || !source) return { ...slot, link: null };
    const linkId = links.length + 1;
    links.push([linkId, uiId(link.from), link.slot, uiId(node.id), index, source.type]);
    source.links = [...(source.links ?? []), linkId];
    return { ...slot, link: linkId };
  });
}

function uiNode(
  node: GraphNode,
  registry: NodeRegistry,
  layout: { position: number; column: number; row: number; inputs: UiSlot[]; outputs: UiSlot[] },
): Record<string, unknown> {
  const def = registry.get(node.type);
  const version = node.version ?? def?.version;
  const properties: Record<string, unknown> = { 'Node name for S&R': node.type };
  if (version !== undefined) properties.ver = String(version);
  const widgets = def ? paramsToWidgets(def, node.params) : node.rawWidgets ?? Object.values(node.params);
  return {
    id: uiId(node.id),
    type: node.type,
    pos: [ORIGIN + layout.column * COLUMN_WIDTH, ORIGIN + layout.row * ROW_HEIGHT],
    size: [320, 120 + 26 * widgets.length],
    flags: {},
    order: layout.position,
    mode: 0,
    inputs: layout.inputs,
    outputs: layout.outputs.map((slot) => ({ ...slot, links: slot.links ?? null })),
    properties,
    widgets_values: widgets,
    ...(node.title !== undefined ? { title: node.title } : {}),
  };
}

/** Litegraph ids are numbers; ids like "194:45" (flattened subgraphs) stay strings. */
function uiId(id: string): number | string {
  return /^\d+$/.test(id) ? Number(id) : id;
}

function inputSlotsOf(node: GraphNode, registry: NodeRegistry): UiSlot[] {
  const def = registry.get(node.type);
  if (def) return Object.entries(def.inputs).map(([name, socket]) => ({ name, type: socket.type }));
  return Object.keys(node.inputs).map((name) => ({ name, type: '*' }));
}

/** Declared outputs, or for an unknown type as many "*" outputs as its consumers use. */
function outputSlotsOf(graph: Graph, node: GraphNode, registry: NodeRegistry): UiSlot[] {
  const def = registry.get(node.type);
  if (def) return def.outputs.map((output) => ({ name: output.name, type: output.type }));
  let count = 0;
  for (const other of graph.nodes.values()) {
    for (const link of Object.values(other.inputs)) if (link.from === node.id) count = Math.max(count, link.slot + 1);
  }
  return Array.from({ length: count }, (_, slot) => ({ name: `output_${slot}`, type: '*' }));
}

/** Longest path from a source; nodes on a cycle get column 0. */
function depthsOf(graph: Graph, order: string[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const id of order) {
    const sources = Object.values(graph.nodes.get(id)!.inputs).map((link) => depth.get(link.from) ?? -1);
    depth.set(id, Math.max(-1, ...sources) + 1);
  }
  return depth;
}
