import { LGraphCanvas, LGraphNode, LiteGraph, type IWidget } from '@comfyorg/litegraph';
import type { Catalog } from './api.js';
import { socketsOf, widgetsOf, type ObjectInfo, type ObjectInfoEntry, type WidgetSpec } from './object-info.js';
import { drawNodeState } from './run-state.js';
import { CONTROL_VALUES } from '../comfy/modes.js';
import { addTextArea } from './text-areas.js';
import { drawModeLook } from './modes.js';
import { THUMB_HEIGHT, drawThumbnail, imageChoices, setImageChoices } from './images.js';

/**
 * One LiteGraph node type per /object_info entry. Widgets follow ComfyUI's order, with
 * the two slots its frontend inserts (a control value after a seed, "upload" after
 * LoadImage's image), so widgets_values positions match ComfyUI's files.
 */

export const SOCKET_COLORS: Record<string, string> = { IMAGE: '#64b5f6', VIDEO: '#ba68c8', TASK: '#ffb74d' };

export interface EditorHooks {
  /** LoadImage's upload button. */
  pickImage(node: LGraphNode): void;
  /** A widget value or a connection changed (the estimate follows). */
  changed(): void;
}

type Widget = IWidget & { options: Record<string, unknown> };

export function registerNodeTypes(info: ObjectInfo, catalog: Catalog, hooks: EditorHooks): void {
  Object.assign(LGraphCanvas.link_type_colors, SOCKET_COLORS);
  for (const entry of Object.values(info)) {
    // ComfyUI's Runway node types are listed for API clients that pre-check prompts; the server maps them onto
    // ours. The editor maps them on open (/reelgraph/import), so they are not nodes one adds here.
    if ((entry as { reelgraph_alias_of?: unknown }).reelgraph_alias_of !== undefined) continue;
    const type = nodeClass(entry, catalog, hooks);
    LiteGraph.registerNodeType(entry.name, type);
    // registerNodeType takes the category from the type name ("a/b/Name"): ours have none,
    // which emptied the "Add Node" menu. ComfyUI's category comes from object_info.
    type.category = entry.category ?? 'reelgraph';
  }
}

function nodeClass(entry: ObjectInfoEntry, catalog: Catalog, hooks: EditorHooks): typeof LGraphNode {
  const title = entry.display_name ?? entry.name;
  // A fresh node's size depends only on its title, slots and widgets, so it is measured once
  // per title, not once per node (measuring text dominated opening large workflows).
  const sizes = new Map<string, [number, number]>();
  const hasThumbnail = widgetsOf(entry).some((spec) => spec.opts.image_upload === true);
  class ReelgraphNode extends LGraphNode {
    static override title = title;
    static override category = entry.category ?? 'reelgraph';
    static comfyClass = entry.name;
    /** Socket types, for the link-release search (link-search.ts). */
    static slotTypes = { inputs: socketsOf(entry).map((socket) => socket.type), outputs: [...entry.output] };
    /** True while the constructor adds slots and widgets: it sizes the node once at the end. */
    private building = true;
    constructor(nodeTitle?: string) {
      super(nodeTitle ?? title);
      this.building = true;
      this.serialize_widgets = true;
      for (const socket of socketsOf(entry)) {
        this.addInput(socket.name, socket.type, { color_on: SOCKET_COLORS[socket.type], shape: socket.optional ? 4 : undefined });
      }
      entry.output.forEach((type, index) => this.addOutput(entry.output_name?.[index] ?? type, type, { color_on: SOCKET_COLORS[type] }));
      for (const spec of widgetsOf(entry)) addWidgetFor(this, spec, hooks);
      followCatalog(this, catalog);
      let size = sizes.get(this.title);
      if (!size) {
        const measured = this.computeSize();
        size = [Math.max(measured[0], 300), measured[1] + (hasThumbnail ? THUMB_HEIGHT + 10 : 0)];
        sizes.set(this.title, size);
      }
      this.size = [size[0], size[1]];
      this.building = false;
      // The definition's version travels in saved workflows; ui-to-graph.ts reads `properties.ver`.
      if (entry.version !== undefined) this.properties.ver = String(entry.version);
    }
    /** litegraph re-measures the node after every addInput/addOutput; once is enough while building. */
    override expandToFitContent(): void {
      if (!this.building) super.expandToFitContent();
    }
    override onDrawBackground(ctx: CanvasRenderingContext2D): void {
      if (hasThumbnail && !this.flags.collapsed) drawThumbnail(this, ctx);
    }
    override onDrawForeground(ctx: CanvasRenderingContext2D): void {
      drawModeLook(this, ctx);
      drawNodeState(this, ctx);
    }
    override onConfigure(): void {
      followCatalog(this, catalog, false);
      // Workflows saved without the thumbnail (ComfyUI's, ours before it) get room for it.
      if (hasThumbnail) this.size[1] = Math.max(this.size[1]!, this.computeSize()[1]! + THUMB_HEIGHT + 10);
    }
    override onWidgetChanged(): void {
      hooks.changed();
    }
    override onConnectionsChange(): void {
      hooks.changed();
    }
  }
  return ReelgraphNode as unknown as typeof LGraphNode;
}

/**
 * LGraphNode.addWidget, without its two per-widget costs: a console warning for widgets
 * without a callback (ours are read on serialize) and re-measuring the node after each
 * one (the constructor sizes the node once, after the last widget).
 */
function addWidget(node: LGraphNode, type: string, name: string, value: unknown, callback: (() => void) | null, options: Record<string, unknown>): void {
  node.addCustomWidget({ type, name, value, callback: callback ?? undefined, options, y: 0 } as unknown as IWidget);
}

function addWidgetFor(node: LGraphNode, spec: WidgetSpec, hooks: EditorHooks): void {
  const opts = spec.opts;
  if (opts.image_upload) {
    // LoadImage: a list of the input folder's images (object_info's own list, when it has one, comes first).
    if (spec.kind === 'combo') setImageChoices([...new Set([...spec.options.map(String), ...imageChoices])]);
    addWidget(node, 'combo', spec.name, spec.default || imageChoices[0] || '', null, { values: imageChoices });
  } else if (spec.kind === 'combo') {
    addWidget(node, 'combo', spec.name, spec.default, null, { values: spec.options });
  } else if (spec.kind === 'number') {
    const integer = spec.integer;
    addWidget(node, 'number', spec.name, spec.default, null, {
      min: typeof opts.min === 'number' ? opts.min : undefined,
      max: typeof opts.max === 'number' ? opts.max : undefined,
      step2: typeof opts.step === 'number' ? opts.step : integer ? 1 : 0.01,
      precision: integer ? 0 : 2,
    });
    if (opts.control_after_generate) addWidget(node, 'combo', 'control_after_generate', 'randomize', null, { values: CONTROL_VALUES });
  } else if (spec.kind === 'toggle') {
    addWidget(node, 'toggle', spec.name, spec.default, null, { on: 'true', off: 'false' });
  } else if (spec.multiline || spec.name === 'promptText') {
    addTextArea(node, spec.name, spec.default, () => hooks.changed());
  } else {
    addWidget(node, 'text', spec.name, spec.default, null, { multiline: false });
  }
  if (opts.image_upload) addWidget(node, 'button', 'upload', 'image', () => hooks.pickImage(node), {});
}

function widget(node: LGraphNode, name: string): Widget | undefined {
  return node.widgets?.find((w) => w.name === name) as Widget | undefined;
}

/**
 * The model list follows the provider and the ratio list follows both, from the catalog,
 * so the editor only offers what that provider accepts for that model.
 */
function followCatalog(node: LGraphNode, catalog: Catalog, adjustValues = true): void {
  const provider = widget(node, 'provider');
  const model = widget(node, 'model');
  const ratio = widget(node, 'ratio');
  if (!provider || !model || !ratio || Object.keys(catalog).length === 0) return;
  const update = (adjust: boolean): void => {
    const models = catalog[String(provider.value)]?.models ?? {};
    const modelIds = Object.keys(models).filter((id) => models[id]);
    if (modelIds.length) model.options.values = modelIds;
    if (adjust && !modelIds.includes(String(model.value)) && modelIds[0]) model.value = modelIds[0];
    const ratios = models[String(model.value)]?.ratios;
    if (ratios?.length) ratio.options.values = [...ratios];
    if (adjust && ratios?.length && !ratios.includes(String(ratio.value))) ratio.value = ratios[0]!;
    node.setDirtyCanvas(true, false);
  };
  provider.callback = () => update(true);
  model.callback = () => update(true);
  update(adjustValues);
}
