import { WorkflowParseError } from '../engine/errors.js';
import type { Graph, GraphNode, LinkRef } from '../engine/graph.js';
import type { NodeRegistry } from '../engine/registry.js';
import type { UiLink, UiNode } from './schemas.js';
import { widgetsToParams } from './widgets.js';
import { emptyRecord } from '../engine/records.js';

/**
 * UI workflow (litegraph) → our graph. Follows what ComfyUI's frontend does when it
 * queues a prompt: notes are dropped, reroutes are followed, muted nodes cut their
 * links, bypassed nodes pass their matching input through.
 */

const MODE_MUTED = 2;
const MODE_BYPASS = 4;
/** Display-only nodes that never execute. */
const DISPLAY_ONLY = new Set(['Note', 'MarkdownNote']);

interface UiIndex {
  nodes: Map<string, UiNode>;
  linksById: Map<number, UiLink>;
  linksByTarget: Map<string, UiLink[]>;
}

export function uiToGraph(nodes: UiNode[], links: UiLink[], registry: NodeRegistry): Graph {
  rejectDuplicateIds(nodes);
  const index = indexOf(nodes, links);
  const graph: Graph = { nodes: new Map() };
  for (const node of nodes) {
    if (DISPLAY_ONLY.has(node.type) || node.type === 'Reroute') continue;
    if (node.mode === MODE_MUTED || node.mode === MODE_BYPASS) continue;
    graph.nodes.set(String(node.id), toGraphNode(node, index, registry));
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
  const graphNode: GraphNode = { id, type: node.type, params: emptyRecord(), inputs: emptyRecord() };
  if (node.title !== undefined) graphNode.title = node.title;
  const version = versionOf(node);
  if (version !== undefined) graphNode.version = version;
  const def = registry.get(node.type);
  const widgets = node.widgets_values;
  if (Array.isArray(widgets)) {
    if (def) graphNode.params = widgetsToParams(def, widgets);
    else graphNode.rawWidgets = widgets;
  } else if (widgets) {
    graphNode.params = { ...widgets };
  }
  for (const link of index.linksByTarget.get(id) ?? []) {
    const name = inputNameOf(node, link);
    if (name === undefined) continue;
    const source = resolveSource(index, link.originId, link.originSlot, link.type, 0);
    if (source) graphNode.inputs[name] = source;
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
function inputNameOf(node: UiNode, link: UiLink): string | undefined {
  const inputs = node.inputs ?? [];
  const byId = inputs.find((input) => input.link === link.id);
  if (byId) return byId.name;
  const atSlot = inputs[link.targetSlot];
  // A link the input no longer points at is a stale leftover in links[].
  if (!atSlot || (typeof atSlot.link === 'number' && atSlot.link !== link.id)) return undefined;
  return atSlot.name;
}

/** Where a value really comes from, through reroutes and bypassed nodes; undefined when muted. */
function resolveSource(index: UiIndex, originId: string, slot: number, type: unknown, depth: number): LinkRef | undefined {
  const origin = index.nodes.get(originId);
  // A missing node stays a link to it, so validation can report the dangling link.
  if (!origin) return { from: originId, slot };
  if (depth > index.nodes.size) return undefined;
  if (origin.type === 'Reroute' || origin.mode === MODE_BYPASS) {
    const upstream = origin.type === 'Reroute' ? linkInto(index, origin, 0) : bypassedInput(index, origin, slot, type);
    if (!upstream) return undefined;
    return resolveSource(index, upstream.originId, upstream.originSlot, type ?? upstream.type, depth + 1);
  }
  if (origin.mode === MODE_MUTED || DISPLAY_ONLY.has(origin.type)) return undefined;
  return { from: originId, slot };
}

function linkInto(index: UiIndex, node: UiNode, slot: number): UiLink | undefined {
  const linkId = node.inputs?.[slot]?.link;
  if (typeof linkId === 'number') return index.linksById.get(linkId);
  return (index.linksByTarget.get(String(node.id)) ?? []).find((link) => link.targetSlot === slot);
}

/** Bypass passes through the input at the same slot if its type matches, else the first input of that type. */
function bypassedInput(index: UiIndex, node: UiNode, slot: number, linkType: unknown): UiLink | undefined {
  const type = linkType ?? node.outputs?.[slot]?.type;
  const inputs = node.inputs ?? [];
  const sameSlot = inputs[slot];
  if (sameSlot && sameSlot.type === type && typeof sameSlot.link === 'number') return linkInto(index, node, slot);
  const first = inputs.findIndex((input) => input.type === type && typeof input.link === 'number');
  return first === -1 ? undefined : linkInto(index, node, first);
}

/** v0.4 link tuples and v1 link objects, as one shape. */
export function linkFromTuple(tuple: readonly unknown[]): UiLink {
  return {
    id: tuple[0] as number,
    originId: String(tuple[1]),
    originSlot: tuple[2] as number,
    targetId: String(tuple[3]),
    targetSlot: tuple[4] as number,
    type: tuple[5],
  };
}
