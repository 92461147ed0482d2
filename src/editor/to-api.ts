import type { LGraph, LGraphNode } from '@comfyorg/litegraph';
import { bypassSlotIndex } from '../comfy/bypass.js';
import { hasSubgraphInstances } from './subgraph-nodes.js';
import { DISPLAY_ONLY_TYPES, MODE_BYPASS, MODE_MUTED, REROUTE_TYPE, UI_ONLY_WIDGETS, isControlValue, isInactiveMode, nextControlledValue } from '../comfy/modes.js';

/**
 * The graph in ComfyUI's API "prompt" format, as its frontend's graphToPrompt makes it:
 * `{id: {class_type, inputs, _meta}}`, links as `[origin_id, origin_slot]`, UI-only widgets
 * left out, muted (2) nodes dropped with their links, and bypassed (4) nodes passed through by the
 * same rule the runtime uses (src/comfy/bypass.ts).
 */

/**
 * What Run and the estimate send as the prompt. A graph holding subgraph instances is sent as its UI workflow
 * (definitions included): the server flattens it with src/comfy/subgraphs.ts and maps it exactly as
 * `reelgraph run` does with the saved file, so there is one flattening, not a second one in the editor.
 */
export function queuedPrompt(graph: LGraph): Record<string, unknown> {
  return hasSubgraphInstances(graph) ? (graph.serialize() as unknown as Record<string, unknown>) : graphToApiPrompt(graph);
}

/** The same, without what moving nodes changes: the estimate is asked again only when something that runs changed. */
export function estimatedPrompt(graph: LGraph): Record<string, unknown> {
  const prompt = queuedPrompt(graph);
  if (!Array.isArray(prompt.nodes)) return prompt;
  const nodes = (prompt.nodes as Record<string, unknown>[]).map(({ pos: _pos, size: _size, order: _order, flags: _flags, ...node }) => node);
  return { ...prompt, nodes, extra: {}, groups: [] };
}

export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta: { title: string } }>;


export function graphToApiPrompt(graph: LGraph): ApiPrompt {
  const prompt: ApiPrompt = {};
  const nodes = (graph.computeExecutionOrder(false) ?? graph.nodes) as LGraphNode[];
  for (const node of nodes) {
    if (isInactiveMode(node.mode) || !node.type || DISPLAY_ONLY_TYPES.has(node.type) || node.type === REROUTE_TYPE) continue;
    const inputs: Record<string, unknown> = {};
    for (const widget of node.widgets ?? []) {
      if (UI_ONLY_WIDGETS.has(widget.name) || widget.type === 'button') continue;
      // Arrays are links in this format; ComfyUI wraps array values.
      inputs[widget.name] = Array.isArray(widget.value) ? { __value__: widget.value } : widget.value;
    }
    for (const slot of node.inputs ?? []) {
      const source = slot.link == null ? undefined : sourceOf(graph, slot.link, String(slot.type));
      if (source) inputs[slot.name] = source;
    }
    prompt[String(node.id)] = { class_type: node.type, inputs, _meta: { title: node.title } };
  }
  return prompt;
}

/** Where a link's value really comes from: through reroutes and bypassed nodes; nowhere from a muted one. */
function sourceOf(graph: LGraph, linkId: number, consumerType: string, hops = 0): [string, number] | undefined {
  const link = graph.links.get(linkId);
  const origin = link ? graph.getNodeById(link.origin_id) : undefined;
  if (!link || !origin || origin.mode === MODE_MUTED || hops > graph.nodes.length) return undefined;
  const inputs = origin.inputs ?? [];
  if (origin.type === REROUTE_TYPE) return inputs[0]?.link != null ? sourceOf(graph, inputs[0].link, consumerType, hops + 1) : undefined;
  if (origin.mode !== MODE_BYPASS) return [String(link.origin_id), link.origin_slot];
  const chosen = bypassSlotIndex(inputs, link.origin_slot, origin.outputs?.[link.origin_slot]?.type, consumerType);
  const through = chosen === undefined ? undefined : inputs[chosen];
  return through?.link != null ? sourceOf(graph, through.link, consumerType, hops + 1) : undefined;
}

/** Applies each seed's control value after a prompt was queued, as ComfyUI does by default. */
export function applyControlValues(graph: LGraph): void {
  for (const node of graph.nodes) {
    const widgets = node.widgets ?? [];
    widgets.forEach((control, index) => {
      if (control.name !== 'control_after_generate' || !isControlValue(control.value)) return;
      const target = widgets[index - 1];
      if (!target || typeof target.value !== 'number') return;
      const max = typeof target.options.max === 'number' ? target.options.max : undefined;
      const min = typeof target.options.min === 'number' ? target.options.min : undefined;
      target.value = nextControlledValue(target.value, control.value, min, max);
    });
  }
}
