import { LGraphNode, type IWidget, type LGraph } from '@comfyorg/litegraph';
import { drawNodeState } from './run-state.js';
import { placeholderJson } from './placeholders.js';

/**
 * ComfyUI subgraph instances (UI v1 `definitions.subgraphs`, docs/comfyui.md "Subgraphs…" §1), opened
 * read-through: each instance is one node titled with its subgraph's name, with the instance's own inputs,
 * outputs and promoted widget values (editable: they belong to the instance). What is inside a subgraph is not
 * shown or edited here; the definitions are kept aside exactly as loaded and written back on save, so they come
 * back byte-equal. Run sends the UI workflow and the server flattens it with src/comfy/subgraphs.ts, the code
 * `reelgraph run` uses (to-api.ts queuedPrompt).
 */

type Json = Record<string, unknown>;
type ISerialisedNode = NonNullable<LGraphNode['last_serialization']>;

/** The definitions of the workflow each graph holds, as loaded. */
const kept = new WeakMap<LGraph, { definitions: unknown; ids: Set<string>; names: Map<string, string> }>();

export const READ_ONLY_NOTE = 'opened read-through: its inner nodes are not shown or edited here (edit them in ComfyUI); its promoted values and links can be changed';

/** Definition ids (instance node types) in a workflow's `definitions.subgraphs`, nested definitions included. */
export function subgraphTypes(data: unknown): Map<string, string> {
  const found = new Map<string, string>();
  const collect = (holder: unknown, depth: number): void => {
    const list = (isRecord(holder) && isRecord(holder.definitions) ? holder.definitions.subgraphs : undefined) as unknown;
    if (!Array.isArray(list) || depth > 32) return;
    for (const definition of list) {
      if (!isRecord(definition) || typeof definition.id !== 'string' || found.has(definition.id)) continue;
      found.set(definition.id, typeof definition.name === 'string' && definition.name !== '' ? definition.name : 'Subgraph');
      collect(definition, depth + 1);
    }
  };
  collect(data, 0);
  return found;
}

/** The workflow without its definitions, for litegraph (which would rebuild and re-serialise them), and the definitions. */
export function splitDefinitions(data: Json): { graphData: Json; definitions: unknown } {
  const { definitions, ...graphData } = data;
  return { graphData, definitions };
}

/** After graph.configure: keeps the definitions for save and turns each instance's stand-in into its subgraph node. */
export function showSubgraphInstances(graph: LGraph, data: Json, definitions: unknown): void {
  const names = subgraphTypes(data);
  if (names.size === 0) {
    kept.delete(graph);
    return;
  }
  kept.set(graph, { definitions, ids: new Set(names.keys()), names });
  for (const node of graph.nodes) {
    const original = node.last_serialization;
    if (original && node.constructor === LGraphNode && names.has(String(original.type))) makeInstance(node, original, names.get(String(original.type))!);
  }
}

/** Writes the kept definitions back into a serialised graph while it still has an instance of one. */
export function addDefinitions(graph: LGraph, data: { nodes?: unknown; definitions?: unknown }): void {
  const entry = kept.get(graph);
  if (!entry || !Array.isArray(data.nodes)) return;
  if ((data.nodes as { type?: unknown }[]).some((node) => entry.ids.has(String(node.type)))) data.definitions = entry.definitions;
  else delete data.definitions;
}

export function hasSubgraphInstances(graph: LGraph): boolean {
  const entry = kept.get(graph);
  return entry !== undefined && graph.nodes.some((node) => entry.ids.has(String(node.type)));
}

function makeInstance(node: LGraphNode, original: ISerialisedNode, name: string): void {
  const saved = original as unknown as Json;
  node.title = typeof saved.title === 'string' && saved.title !== '' ? saved.title : name;
  node.has_errors = false;
  const promoted = promotedWidgets(node, saved);
  node.serialize = () => instanceJson(node, original, promoted);
  node.onDrawForeground = function (this: LGraphNode, ctx: CanvasRenderingContext2D) {
    drawCaption(this, ctx);
    drawNodeState(this, ctx);
  };
  node.getExtraMenuOptions = () => [{ content: `Subgraph "${name}": ${READ_ONLY_NOTE}`, disabled: true }];
  // Room for the promoted widgets, never smaller than saved (an untouched instance saves as it was).
  const needed = node.computeSize();
  node.size[0] = Math.max(node.size[0] ?? 0, needed[0] ?? 0);
  node.size[1] = Math.max(node.size[1] ?? 0, needed[1] ?? 0);
}

interface Promoted {
  widget: { name: string; value: unknown };
  initial: unknown;
}

/**
 * One widget per promoted input (an input carrying `widget`), holding the instance's value: its widgets_values
 * in the order of those inputs, or by name when saved as an object. A value it does not hold stays the inner
 * widget's own; such a widget shows "(inner value)" and is left out on save until it is given one.
 */
function promotedWidgets(node: LGraphNode, saved: Json): Promoted[] {
  const inputs = (Array.isArray(saved.inputs) ? saved.inputs : []) as Json[];
  const values = saved.widgets_values;
  const promoted: Promoted[] = [];
  inputs.filter((input) => isRecord(input.widget)).forEach((input, index) => {
    const name = String((input.widget as Json).name ?? input.name);
    const value = Array.isArray(values) ? values[index] : isRecord(values) ? values[name] : undefined;
    const numeric = input.type === 'INT' || input.type === 'FLOAT';
    const widget: Promoted['widget'] = node.addCustomWidget({
      type: numeric && typeof value === 'number' ? 'number' : 'text',
      name,
      value: value === undefined ? '(inner value)' : value,
      options: numeric ? { precision: input.type === 'INT' ? 0 : 2, step2: input.type === 'INT' ? 1 : 0.01 } : { multiline: false },
      y: 0,
    } as unknown as IWidget);
    promoted.push({ widget, initial: widget.value });
  });
  return promoted;
}

/** The instance as loaded, with its layout, links and any promoted value the user changed. */
function instanceJson(node: LGraphNode, original: ISerialisedNode, promoted: Promoted[]): ISerialisedNode {
  const json = placeholderJson(node, original);
  const changed = promoted.some(({ widget, initial }) => widget.value !== initial);
  if (!changed) return json;
  const saved = original.widgets_values as unknown;
  if (isRecord(saved)) {
    const values: Json = { ...saved };
    for (const { widget, initial } of promoted) if (widget.value !== initial || Object.hasOwn(saved, widget.name)) values[widget.name] = widget.value;
    return { ...json, widgets_values: values as unknown as ISerialisedNode['widgets_values'] };
  }
  const values = Array.isArray(saved) ? [...(saved as unknown[])] : [];
  promoted.forEach(({ widget, initial }, index) => {
    if (widget.value !== initial) values[index] = widget.value;
  });
  return { ...json, widgets_values: values as ISerialisedNode['widgets_values'] };
}

/** A caption under the title saying what this node is (canvas text, never HTML). */
function drawCaption(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
  if (node.flags.collapsed) return;
  ctx.save();
  ctx.font = '11px sans-serif';
  ctx.fillStyle = '#8ab4f8';
  ctx.textAlign = 'right';
  ctx.fillText('subgraph · read-only inside', (node.size[0] ?? 0) - 8, -8);
  ctx.restore();
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
