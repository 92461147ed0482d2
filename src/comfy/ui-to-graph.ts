import { WorkflowParseError } from '../engine/errors.js';
import type { Graph, GraphNode, LinkRef } from '../engine/graph.js';
import type { NodeRegistry } from '../engine/registry.js';
import { bypassSlotIndex } from './bypass.js';
import type { UiLink } from './links.js';
import { DISPLAY_ONLY_TYPES, MODE_BYPASS, MODE_MUTED, PRIMITIVE_TYPE, REROUTE_TYPE, UI_ONLY_WIDGETS, isInactiveMode, isVirtualType } from './modes.js';
import type { AnyNodeDefinition } from '../engine/define-node.js';
import { paramSpecs } from '../engine/params.js';
import type { UiNode } from './schemas.js';
import { widgetsToParams } from './widgets.js';
import { fieldRecord } from '../engine/records.js';

/**
 * UI workflow (litegraph) → our graph. Follows what ComfyUI's frontend does when it
 * queues a prompt: notes are dropped, reroutes are followed, muted nodes cut their
 * links, bypassed nodes pass their matching input through.
 */


interface UiIndex {
  nodes: Map<string, UiNode>;
  linksById: Map<number, UiLink>;
  linksByTarget: Map<string, UiLink[]>;
}

/** `where`: how messages name nodes inside subgraphs (from ./subgraphs.ts), by execution id. */
export function uiToGraph(nodes: UiNode[], links: UiLink[], registry: NodeRegistry, where?: ReadonlyMap<string, string>): Graph {
  rejectDuplicateIds(nodes);
  const index = indexOf(nodes, links);
  const graph: Graph = { nodes: new Map() };
  for (const node of nodes) {
    if (isVirtualType(node.type)) continue;
    if (isInactiveMode(node.mode)) continue;
    const graphNode = toGraphNode(node, index, registry);
    const path = where?.get(graphNode.id);
    if (path !== undefined) graphNode.where = path;
    graph.nodes.set(graphNode.id, graphNode);
  }
  return graph;
}

/** Two nodes with one id would silently collapse into one (and a link could reach the wrong node). */
function rejectDuplicateIds(nodes: UiNode[]): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    const id = String(node.id);
    if (seen.has(id)) throw new WorkflowParseError(`The workflow has more than one node with id ${id}; node ids must be unique.`);
    seen.add(id);
  }
}

function indexOf(nodes: UiNode[], links: UiLink[]): UiIndex {
  const linksByTarget = new Map<string, UiLink[]>();
  for (const link of links) {
    const list = linksByTarget.get(link.targetId) ?? [];
    list.push(link);
    linksByTarget.set(link.targetId, list);
  }
  return {
    nodes: new Map(nodes.map((n) => [String(n.id), n])),
    linksById: new Map(links.map((l) => [l.id, l])),
    linksByTarget,
  };
}

function toGraphNode(node: UiNode, index: UiIndex, registry: NodeRegistry): GraphNode {
  const id = String(node.id);
  const graphNode: GraphNode = { id, type: node.type, params: fieldRecord(), inputs: fieldRecord() };
  if (node.title !== undefined) graphNode.title = node.title;
  const version = versionOf(node);
  if (version !== undefined) graphNode.version = version;
  const def = registry.get(node.type);
  const widgets = node.widgets_values;
  if (Array.isArray(widgets)) {
    if (def) graphNode.params = widgetsToParams(def, widgets);
    else graphNode.rawWidgets = widgets;
  } else if (widgets) {
    graphNode.params = def ? namedWidgetsToParams(def, widgets, id, node.type) : { ...widgets };
  }
  for (const link of index.linksByTarget.get(id) ?? []) {
    const input = inputOf(node, link);
    if (input === undefined) continue;
    const name = input.name;
    const source = resolveSource(index, link.originId, link.originSlot, input.type ?? link.type, 0);
    if (!source) continue;
    // A PrimitiveNode is never a node at run time: its value is the widget's (docs/comfyui.md "Subgraphs…" §2).
    if ('value' in source) graphNode.params[widgetNameOf(input)] = source.value;
    else graphNode.inputs[name] = source;
  }
  return graphNode;
}

/** A node's recorded version: `version`, or `properties.ver` when it is a plain number. */
function versionOf(node: UiNode): number | undefined {
  if (node.version !== undefined) return node.version;
  const ver = node.properties?.ver;
  const parsed = typeof ver === 'number' ? ver : typeof ver === 'string' && ver.trim() !== '' ? Number(ver) : NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * target_slot indexes the *saved* inputs[] (the frontend drops unconnected widget
 * inputs and renumbers), so the name comes from there, never from the definition.
 */
function inputOf(node: UiNode, link: UiLink): { name: string; type?: unknown } | undefined {
  const inputs = node.inputs ?? [];
  const byId = inputs.find((input) => input.link === link.id);
  if (byId) return byId;
  const atSlot = inputs[link.targetSlot];
  // A link the input no longer points at is a stale leftover in links[].
  if (!atSlot || (typeof atSlot.link === 'number' && atSlot.link !== link.id)) return undefined;
  return atSlot;
}

/**
 * Where a value really comes from, through reroutes and bypassed nodes; undefined when muted.
 * `consumerType` is the type of the input that reads it (the bypass rule needs it all along a chain).
 */
function resolveSource(index: UiIndex, originId: string, slot: number, consumerType: unknown, depth: number): LinkRef | { value: unknown } | undefined {
  const origin = index.nodes.get(originId);
  // A missing node stays a link to it, so validation can report the dangling link.
  if (!origin) return { from: originId, slot };
  if (depth > index.nodes.size) return undefined;
  if (origin.type === PRIMITIVE_TYPE) return primitiveValue(origin);
  if (origin.type === REROUTE_TYPE || origin.mode === MODE_BYPASS) {
    const upstream = origin.type === REROUTE_TYPE ? linkInto(index, origin, 0) : bypassedInput(index, origin, slot, consumerType);
    if (!upstream) return undefined;
    return resolveSource(index, upstream.originId, upstream.originSlot, consumerType, depth + 1);
  }
  if (origin.mode === MODE_MUTED || DISPLAY_ONLY_TYPES.has(origin.type)) return undefined;
  return { from: originId, slot };
}

function linkInto(index: UiIndex, node: UiNode, slot: number): UiLink | undefined {
  const input = node.inputs?.[slot];
  if (typeof input?.link === 'number') return index.linksById.get(input.link);
  // A saved input with no link is unconnected; only a file without inputs[] is matched by slot.
  if (input) return undefined;
  return (index.linksByTarget.get(String(node.id)) ?? []).find((link) => link.targetSlot === slot);
}

/** The link into the input that a bypassed node passes through for its output `slot` (ComfyUI's rule, ./bypass.ts). */
function bypassedInput(index: UiIndex, node: UiNode, slot: number, consumerType: unknown): UiLink | undefined {
  const chosen = bypassSlotIndex(node.inputs ?? [], slot, node.outputs?.[slot]?.type, consumerType);
  return chosen === undefined ? undefined : linkInto(index, node, chosen);
}

/** The widget an input feeds: its `widget.name` (the frontend's widget sockets), else its own name. */
function widgetNameOf(input: { name: string; widget?: unknown }): string {
  const widget = input.widget as { name?: unknown } | undefined;
  return typeof widget?.name === 'string' ? widget.name : input.name;
}

/** A PrimitiveNode's value: the first of its widgets_values `[value, control?, filter?]`; none when it holds nothing. */
function primitiveValue(node: UiNode): { value: unknown } | undefined {
  const values = node.widgets_values;
  if (Array.isArray(values)) return values.length > 0 ? { value: values[0] } : undefined;
  if (values && typeof values === 'object') {
    const [first] = Object.values(values);
    return first === undefined ? undefined : { value: first };
  }
  return undefined;
}

/**
 * widgets_values saved as `{widgetName: value}` (VideoHelperSuite and packs that copy it, docs/comfyui.md
 * "Subgraphs…" §3), read by name. The frontend's own UI-only widgets are skipped; any other name the node
 * does not have cannot be placed, and is refused rather than dropped.
 */
function namedWidgetsToParams(def: AnyNodeDefinition, values: Record<string, unknown>, id: string, type: string): Record<string, unknown> {
  const names = new Set(paramSpecs(def).map((spec) => spec.name));
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (names.has(name)) params[name] = value;
    else if (!UI_ONLY_WIDGETS.has(name)) {
      throw new WorkflowParseError(
        `Node "${id}" (${type}): the saved widget value "${name}" cannot be placed; the node's widgets are ${[...names].join(', ')}.`,
      );
    }
  }
  return params;
}
