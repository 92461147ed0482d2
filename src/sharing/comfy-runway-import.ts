import type { ProviderId } from '../providers/provider.js';
import { providersOffering } from '../providers/catalog.js';
import { WorkflowParseError } from '../engine/errors.js';
import { paramSpecs } from '../engine/params.js';
import { paramsToWidgets } from '../comfy/widgets.js';
import { migrateWorkflow, migrationsOf } from '../comfy/migrate.js';
import type { NodeRegistry } from '../engine/registry.js';
import { isApiLink, readUiLinks, writeUiLinks, type UiLink } from '../comfy/links.js';
import { PRIMITIVE_TYPE, REROUTE_TYPE, DISPLAY_ONLY_TYPES, isInactiveMode } from '../comfy/modes.js';

/**
 * Workflows saved by ComfyUI with its Runway API nodes, mapped onto ours so they run
 * here unchanged: each `RunwayImageToVideoNodeGen3a/Gen4` becomes
 * ValidateImage → RunwayI2V → Poll (the Runway node keeps its id, so messages name the
 * node the user sees). LoadImage and SaveVideo have the same widgets in both runtimes.
 * Everything else in the file (layout, groups, extra.ds, notes, modes, unknown keys) is kept.
 * See docs/comfyui.md §3–4.
 */

/** ComfyUI's Runway image-to-video node types and the model each one calls. */
export const COMFY_RUNWAY_MODELS: Record<string, 'gen3a_turbo' | 'gen4_turbo'> = {
  RunwayImageToVideoNodeGen3a: 'gen3a_turbo',
  RunwayImageToVideoNodeGen4: 'gen4_turbo',
};

/** Types that never execute, so they are neither mapped nor unsupported. */
const PASSIVE_TYPES = new Set([...DISPLAY_ONLY_TYPES, REROUTE_TYPE, PRIMITIVE_TYPE]);

export interface ImportOptions {
  provider?: ProviderId;
  registry: NodeRegistry;
  /** Told of each node added for a mapped one (its ValidateImage and Poll), so messages can name them by the node the user saw. */
  onInserted?: (insertedId: string, mappedId: string) => void;
}

export interface ImportResult {
  json: unknown;
  /** Ids of the ComfyUI Runway nodes that were mapped. */
  mapped: string[];
  /** Nodes whose type neither runtime offers here; they stay in the file as placeholders. */
  unsupported: { id: string; type: string }[];
}

type Json = Record<string, unknown>;

interface RunwayValues {
  prompt: unknown;
  duration: unknown;
  ratio: unknown;
  seed: unknown;
  /** ComfyUI's control_after_generate value ("randomize", …), UI files only. */
  control?: unknown;
}

/**
 * ComfyUI's Runway video node types as GET /object_info lists them (docs/comfyui.md §4), so clients that check a
 * prompt against object_info accept what the server runs. `reelgraph_alias_of` says which of our nodes run instead.
 */
export function comfyRunwayObjectInfo(): Record<string, Record<string, unknown>> {
  const entry = (type: string, model: string, ratios: readonly string[], title: string) => ({
    input: {
      required: {
        prompt: ['STRING', { multiline: true, default: '', tooltip: 'Text prompt for the generation' }],
        start_frame: ['IMAGE', { tooltip: 'Start frame to be used for the video' }],
        duration: [[5, 10], { default: 5 }],
        ratio: [[...ratios], { default: ratios[0] }],
        seed: ['INT', { default: 0, min: 0, max: 4294967295, step: 1, control_after_generate: true, tooltip: 'Random seed for generation' }],
      },
      optional: {},
      hidden: { auth_token_comfy_org: 'AUTH_TOKEN_COMFY_ORG', api_key_comfy_org: 'API_KEY_COMFY_ORG', unique_id: 'UNIQUE_ID' },
    },
    input_order: { required: ['prompt', 'start_frame', 'duration', 'ratio', 'seed'], optional: [], hidden: ['auth_token_comfy_org', 'api_key_comfy_org', 'unique_id'] },
    output: ['VIDEO'],
    output_is_list: [false],
    output_name: ['VIDEO'],
    name: type,
    display_name: title,
    description: `ComfyUI's Runway node; reelgraph runs it as ValidateImage → RunwayI2V (${model}) → Poll on the chosen provider.`,
    category: 'api node/video/Runway',
    output_node: false,
    api_node: true,
    python_module: 'reelgraph',
    reelgraph_alias_of: ['ValidateImage', 'RunwayI2V', 'Poll'],
  });
  return {
    RunwayImageToVideoNodeGen3a: entry('RunwayImageToVideoNodeGen3a', 'gen3a_turbo', ['768:1280', '1280:768'], 'Runway Image to Video (Gen3a Turbo)'),
    RunwayImageToVideoNodeGen4: entry(
      'RunwayImageToVideoNodeGen4', 'gen4_turbo', ['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'], 'Runway Image to Video (Gen4 Turbo)',
    ),
  };
}

/** Whether the document uses ComfyUI's Runway nodes and so needs importComfyWorkflow. */
export function isComfyRunwayWorkflow(json: unknown): boolean {
  return nodeTypes(json).some((type) => modelFor(type) !== undefined);
}

/** The model a ComfyUI Runway node type calls (own keys only: a node typed "toString" is not one). */
function modelFor(type: unknown): string | undefined {
  return typeof type === 'string' && Object.hasOwn(COMFY_RUNWAY_MODELS, type) ? COMFY_RUNWAY_MODELS[type] : undefined;
}

/**
 * What every loader does before parsing: ComfyUI Runway nodes mapped onto ours (when
 * there are any), then node version migrations. A document that needs neither comes back as it was.
 */
export function prepareWorkflowJson(json: unknown, options: ImportOptions): unknown {
  refuseFirstLastFrame(json);
  const imported = isComfyRunwayWorkflow(json) ? importComfyWorkflow(json, options).json : json;
  const migrated = migrateWorkflow(imported, migrationsOf(options.registry));
  return migrated.applied.length > 0 ? migrated.json : imported;
}

/** ComfyUI's RunwayFirstLastFrameNode: gen3a_turbo with a first and a last frame, which Runway retired. */
export const FIRST_LAST_FRAME_TYPE = 'RunwayFirstLastFrameNode';

/**
 * First/last-frame video cannot run here: Runway retired it, and the providers that still offer gen3a_turbo
 * take one image through our RunwayI2V. One sentence that says so, rather than "unknown type".
 */
function refuseFirstLastFrame(json: unknown): void {
  const node = nodeEntries(json).find((entry) => entry.type === FIRST_LAST_FRAME_TYPE && !entry.inactive);
  if (!node) return;
  const still = providersOffering('gen3a_turbo').join(' and ');
  throw new WorkflowParseError(
    `Node "${node.id}" (${FIRST_LAST_FRAME_TYPE}): Runway retired Gen-3 Alpha Turbo and first/last-frame video on 2026-07-30; ` +
      `${still} still offer gen3a_turbo but from one start image only, so replace this node with RunwayImageToVideoNodeGen3a (or RunwayI2V) and run it with --provider runcomfy or cometapi.`,
  );
}

/** Maps ComfyUI Runway nodes onto ours (a new document; the input is not changed). */
export function importComfyWorkflow(json: unknown, options: ImportOptions): ImportResult {
  const copy = structuredClone(json) as Json;
  const mapped = Array.isArray(copy.nodes) ? importUi(copy, options) : importApi(copy, options);
  const unsupported = nodeEntries(copy)
    .filter(({ type, inactive }) => !inactive && !PASSIVE_TYPES.has(type) && !options.registry.get(type))
    .map(({ id, type }) => ({ id, type }));
  return { json: copy, mapped, unsupported };
}

function nodeEntries(json: unknown): { id: string; type: string; inactive: boolean }[] {
  if (typeof json !== 'object' || json === null) return [];
  const doc = json as Json;
  if (Array.isArray(doc.nodes)) {
    return (doc.nodes as Json[])
      .filter((n) => typeof n?.type === 'string')
      // Muted and bypassed nodes never run, so a missing type there costs nothing.
      .map((n) => ({ id: String(n.id), type: n.type as string, inactive: isInactiveMode(n.mode) }));
  }
  return Object.entries(doc)
    .filter(([, node]) => typeof (node as Json | null)?.class_type === 'string')
    .map(([id, node]) => ({ id, type: (node as Json).class_type as string, inactive: false }));
}

function nodeTypes(json: unknown): string[] {
  return nodeEntries(json).map((entry) => entry.type);
}

function runwayParams(values: RunwayValues, model: string, provider: ProviderId): Json {
  return { provider, model, promptText: values.prompt ?? '', ratio: values.ratio, duration: values.duration, seed: values.seed, watermark: false };
}

// ---- API prompts: {id: {class_type, inputs}} ----

function importApi(doc: Json, options: ImportOptions): string[] {
  const mapped: string[] = [];
  let nextId = Math.max(0, ...Object.keys(doc).map(Number).filter(Number.isInteger)) + 1;
  for (const [id, node] of Object.entries(doc)) {
    const entry = node as Json;
    const model = modelFor(entry.class_type);
    if (!model) continue;
    const inputs = (entry.inputs ?? {}) as Json;
    const validateId = String(nextId++);
    const pollId = String(nextId++);
    redirectApiLinks(doc, id, pollId);
    doc[validateId] = { class_type: 'ValidateImage', inputs: { image: inputs.start_frame }, _meta: { title: 'Validate Image' } };
    const values: RunwayValues = { prompt: inputs.prompt, duration: inputs.duration, ratio: inputs.ratio, seed: inputs.seed };
    entry.class_type = 'RunwayI2V';
    entry.inputs = { ...runwayParams(values, model, options.provider ?? 'runway'), image: [validateId, 0] };
    doc[pollId] = { class_type: 'Poll', inputs: { task: [id, 0] }, _meta: { title: 'Poll' } };
    mapped.push(id);
  }
  return mapped;
}

/** Consumers of the Runway node's VIDEO now read the Poll node's VIDEO. */
function redirectApiLinks(doc: Json, fromId: string, toId: string): void {
  for (const node of Object.values(doc)) {
    const inputs = (node as Json).inputs as Json | undefined;
    for (const [name, value] of Object.entries(inputs ?? {})) {
      if (isApiLink(value) && value[0] === fromId) inputs![name] = [toId, value[1]];
    }
  }
}

// ---- UI workflows (0.4 link tuples, or v1 link objects) ----

type Link = UiLink;

interface UiDoc {
  doc: Json;
  nodes: Json[];
  links: Link[];
  nextNodeId: number;
  nextLinkId: number;
}

function importUi(doc: Json, options: ImportOptions): string[] {
  const ui = readUi(doc);
  const mapped: string[] = [];
  for (const node of [...ui.nodes]) {
    const model = modelFor(node.type);
    if (!model) continue;
    mapUiRunwayNode(ui, node, model, options);
    mapped.push(String(node.id));
  }
  writeUi(ui);
  return mapped;
}

function readUi(doc: Json): UiDoc {
  const nodes = doc.nodes as Json[];
  const links = readUiLinks(doc.links);
  const state = (doc.state ?? {}) as Json;
  const maxNode = Math.max(0, Number(doc.last_node_id ?? state.lastNodeId ?? 0), ...nodes.map((n) => Number(n.id)).filter(Number.isFinite));
  const maxLink = Math.max(0, Number(doc.last_link_id ?? state.lastLinkId ?? 0), ...links.map((l) => l.id));
  return { doc, nodes, links, nextNodeId: maxNode + 1, nextLinkId: maxLink + 1 };
}

function writeUi(ui: UiDoc): void {
  const { doc } = ui;
  doc.links = writeUiLinks(ui.links, doc.version);
  if (doc.version === 1) {
    doc.state = { ...((doc.state ?? {}) as Json), lastNodeId: ui.nextNodeId - 1, lastLinkId: ui.nextLinkId - 1 };
    return;
  }
  doc.last_node_id = ui.nextNodeId - 1;
  doc.last_link_id = ui.nextLinkId - 1;
}

/** Rewires start_frame → ValidateImage → RunwayI2V → Poll → (former VIDEO consumers). */
function mapUiRunwayNode(ui: UiDoc, node: Json, model: string, options: ImportOptions): void {
  const id = String(node.id);
  const [x, y] = Array.isArray(node.pos) ? (node.pos as number[]) : [0, 0];
  const mode = node.mode ?? 0;
  const validate = newNode(ui, 'ValidateImage', [(x ?? 0) - 40, (y ?? 0) - 130], mode, options, id);
  const poll = newNode(ui, 'Poll', [(x ?? 0) + 40, (y ?? 0) + 330], mode, options, id);
  options.onInserted?.(String(validate.id), id);
  options.onInserted?.(String(poll.id), id);
  const inputLink = ui.links.find((l) => String(l.targetId) === id && inputName(node, l) === 'start_frame');
  if (inputLink) {
    inputLink.targetId = String(validate.id);
    inputLink.targetSlot = 0;
    (validate.inputs as Json[])[0]!.link = inputLink.id;
  }
  const toRunway = addLink(ui, validate, node, 'IMAGE');
  const videoLinks = ui.links.filter((l) => String(l.originId) === id);
  for (const link of videoLinks) link.originId = String(poll.id);
  (poll.outputs as Json[])[0]!.links = videoLinks.map((l) => l.id);
  const toPoll = addLink(ui, node, poll, 'TASK');
  (validate.outputs as Json[])[0]!.links = [toRunway.id];
  (poll.inputs as Json[])[0]!.link = toPoll.id;
  rewriteRunwayNode(ui, node, model, options, toRunway.id, toPoll.id);
}

function inputName(node: Json, link: Link): string | undefined {
  const inputs = (Array.isArray(node.inputs) ? node.inputs : []) as Json[];
  const input = inputs.find((i) => i.link === link.id) ?? inputs[link.targetSlot];
  return typeof input?.name === 'string' ? input.name : undefined;
}

function addLink(ui: UiDoc, from: Json, to: Json, type: string): Link {
  const link: Link = { id: ui.nextLinkId++, originId: String(from.id), originSlot: 0, targetId: String(to.id), targetSlot: 0, type };
  ui.links.push(link);
  return link;
}

/**
 * A fresh id for a node added beside `forId`. Inside a flattened subgraph ("10:5:7") it shares the instance
 * prefix ("10:5:14"), as ComfyUI names every node there, so clients and the editor place it in that instance.
 */
function insertedId(ui: UiDoc, forId: string): number | string {
  const prefix = forId.slice(0, forId.lastIndexOf(':') + 1);
  if (prefix === '') return ui.nextNodeId++;
  const taken = new Set(ui.nodes.map((node) => String(node.id)));
  let id = `${prefix}${ui.nextNodeId++}`;
  while (taken.has(id)) id = `${prefix}${ui.nextNodeId++}`;
  return id;
}

const SOCKETS: Record<string, { input: [string, string]; output: string }> = {
  ValidateImage: { input: ['image', 'IMAGE'], output: 'IMAGE' },
  Poll: { input: ['task', 'TASK'], output: 'VIDEO' },
};

function newNode(ui: UiDoc, type: 'ValidateImage' | 'Poll', pos: number[], mode: unknown, options: ImportOptions, forId: string): Json {
  const def = options.registry.get(type);
  const sockets = SOCKETS[type]!;
  const node: Json = {
    id: insertedId(ui, forId),
    type,
    pos,
    size: [300, type === 'Poll' ? 110 : 50],
    flags: {},
    order: ui.nodes.length,
    mode,
    inputs: [{ name: sockets.input[0], type: sockets.input[1], link: null }],
    outputs: [{ name: sockets.output, type: sockets.output, links: [] }],
    properties: { 'Node name for S&R': type, ...(def ? { ver: String(def.version) } : {}) },
    widgets_values: def ? paramsToWidgets(def, {}) : [],
  };
  ui.nodes.push(node);
  return node;
}

function rewriteRunwayNode(ui: UiDoc, node: Json, model: string, options: ImportOptions, inputLinkId: number, outputLinkId: number): void {
  const values = runwayWidgetValues(ui, node);
  const properties = { ...((node.properties ?? {}) as Json) };
  // cnr_id/ver describe the ComfyUI node pack, not our node.
  delete properties.cnr_id;
  delete properties.ver;
  const def = options.registry.get('RunwayI2V');
  node.properties = { ...properties, 'Node name for S&R': 'RunwayI2V', reelgraph_imported_from: node.type, ...(def ? { ver: String(def.version) } : {}) };
  node.type = 'RunwayI2V';
  node.inputs = [{ name: 'image', type: 'IMAGE', link: inputLinkId }];
  node.outputs = [{ name: 'TASK', type: 'TASK', links: [outputLinkId] }];
  const params = runwayParams(values, model, options.provider ?? 'runway');
  node.widgets_values = def ? withControlValue(def, paramsToWidgets(def, params), values.control) : Object.values(params);
}

/** ComfyUI's Runway widget names, in widgets_values order (the control value follows the seed). */
const RUNWAY_WIDGETS = ['prompt', 'duration', 'ratio', 'seed', 'control_after_generate'] as const;

/**
 * The Runway node's values: from widgets_values (positional, or by name when saved as an object), each
 * overridden by a PrimitiveNode linked to that widget's input (its value is the widget's, as in ComfyUI).
 * The primitives' links are removed: our node has no such inputs.
 */
function runwayWidgetValues(ui: UiDoc, node: Json): RunwayValues {
  const saved = node.widgets_values;
  const named: Json = Array.isArray(saved)
    ? Object.fromEntries(RUNWAY_WIDGETS.map((name, i) => [name, saved[i]]))
    : typeof saved === 'object' && saved !== null ? { ...(saved as Json) } : {};
  const id = String(node.id);
  for (const link of ui.links.filter((l) => l.targetId === id)) {
    const input = inputName(node, link);
    const origin = ui.nodes.find((candidate) => String(candidate.id) === link.originId);
    if (input === undefined || input === 'start_frame' || origin?.type !== PRIMITIVE_TYPE) continue;
    const value = Array.isArray(origin.widgets_values) ? (origin.widgets_values as unknown[])[0] : undefined;
    if (value !== undefined) named[input] = value;
    ui.links.splice(ui.links.indexOf(link), 1);
  }
  return { prompt: named.prompt, duration: named.duration, ratio: named.ratio, seed: named.seed, control: named.control_after_generate };
}

/** Keeps ComfyUI's control value ("randomize", …) in the slot after the seed widget. */
function withControlValue(def: Parameters<typeof paramSpecs>[0], widgets: unknown[], control: unknown): unknown[] {
  if (typeof control !== 'string') return widgets;
  let position = 0;
  for (const spec of paramSpecs(def)) {
    position++;
    if (spec.hints.controlAfterGenerate) {
      if (spec.name === 'seed') widgets[position] = control;
      position++;
    }
    if (spec.hints.imageUpload) position++;
  }
  return widgets;
}
