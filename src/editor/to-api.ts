import type { LGraph, LGraphNode } from '@comfyorg/litegraph';
import { CONTROL_VALUES, EXTRA_WIDGETS } from './register-nodes.js';

/**
 * The graph in ComfyUI's API "prompt" format, as its frontend's graphToPrompt makes it:
 * `{id: {class_type, inputs, _meta}}`, links as `[origin_id, origin_slot]`, UI-only widgets
 * left out, muted (2) nodes dropped with their links, and bypassed (4) nodes passed through: a
 * consumer is linked to the bypassed node's input of the same type, as ComfyUI does.
 */

export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta: { title: string } }>;

const MUTED = 2;
const BYPASSED = 4;
const SKIPPED_MODES = new Set([MUTED, BYPASSED]);
/** ComfyUI's frontend-only notes: they reach us as placeholders and never run. */
const DISPLAY_ONLY = new Set(['Note', 'MarkdownNote']);

export function graphToApiPrompt(graph: LGraph): ApiPrompt {
  const prompt: ApiPrompt = {};
  const nodes = (graph.computeExecutionOrder(false) ?? graph.nodes) as LGraphNode[];
  for (const node of nodes) {
    if (SKIPPED_MODES.has(node.mode) || !node.type || DISPLAY_ONLY.has(node.type)) continue;
    const inputs: Record<string, unknown> = {};
    for (const widget of node.widgets ?? []) {
      if (EXTRA_WIDGETS.has(widget.name) || widget.type === 'button') continue;
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

/** Where a link's value really comes from: through bypassed nodes; nowhere from a muted one. */
function sourceOf(graph: LGraph, linkId: number, type: string, hops = 0): [string, number] | undefined {
  const link = graph.links.get(linkId);
  const origin = link ? graph.getNodeById(link.origin_id) : undefined;
  if (!link || !origin || origin.mode === MUTED || hops > graph.nodes.length) return undefined;
  if (origin.mode !== BYPASSED) return [String(link.origin_id), link.origin_slot];
  const through = (origin.inputs ?? []).find((input) => String(input.type) === type && input.link != null);
  return through ? sourceOf(graph, through.link!, type, hops + 1) : undefined;
}

/** Applies each seed's control value after a prompt was queued, as ComfyUI does by default. */
export function applyControlValues(graph: LGraph): void {
  for (const node of graph.nodes) {
    const widgets = node.widgets ?? [];
    widgets.forEach((control, index) => {
      if (control.name !== 'control_after_generate' || !CONTROL_VALUES.includes(String(control.value))) return;
      const target = widgets[index - 1];
      if (!target || typeof target.value !== 'number') return;
      const max = typeof target.options.max === 'number' ? target.options.max : 4294967295;
      const min = typeof target.options.min === 'number' ? target.options.min : 0;
      if (control.value === 'increment') target.value = Math.min(max, target.value + 1);
      if (control.value === 'decrement') target.value = Math.max(min, target.value - 1);
      if (control.value === 'randomize') target.value = min + Math.floor(Math.random() * (Math.min(max, 2 ** 32 - 1) - min + 1));
    });
  }
}
