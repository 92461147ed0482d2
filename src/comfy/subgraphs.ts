import { WorkflowParseError } from '../engine/errors.js';
import { readUiLinks, writeUiLinks, type UiLink } from './links.js';
import { PRIMITIVE_TYPE, isInactiveMode } from './modes.js';

/**
 * ComfyUI subgraphs (the frontend's "Convert to Subgraph", docs/comfyui.md "Subgraphs…" §1) flattened into
 * one plain UI workflow, as the frontend's graphToPrompt does before it queues:
 * - an inner node's id becomes its execution id: the ancestor instance ids and its own, joined by ":" ("12:2");
 * - a link from the definition's input node (-10) reads the instance's input: its outer link when linked,
 *   else the instance's promoted widget value (delivered by a PrimitiveNode, so it flows like one), else nothing;
 * - a consumer of an instance output follows the inner link into the output node (-20) to its origin;
 * - a top-level instance that is muted or bypassed is not expanded: it stays as one node so the mute and
 *   bypass rules apply to its own slots. Nested instances are expanded whatever their mode.
 * The result has no `definitions` and runs through the ordinary converter; the document is not changed.
 */

type Json = Record<string, unknown>;

const INPUT_NODE = '-10';
const OUTPUT_NODE = '-20';
/** Deeper than any real file; a definition that contains itself would otherwise never end. */
const MAX_DEPTH = 32;

interface Definition {
  id: string;
  name: string;
  inputs: { name: string; type?: unknown }[];
  nodes: Json[];
  links: UiLink[];
}

interface Scope {
  /** Execution-id prefix of the nodes in this scope: "" at the root, "12:" inside instance 12. */
  prefix: string;
  /** Human path for messages: "" at the root, 'subgraph "Animate" › ' inside. */
  label: string;
  nodes: Map<string, Json>;
  links: Map<number, UiLink>;
  /** The instance this scope expands, and the scope it sits in. */
  parent?: { scope: Scope; instance: Json; definition: Definition };
  depth: number;
}

type Source = { kind: 'node'; id: string; slot: number; type: unknown } | { kind: 'value'; value: unknown };

export interface FlatWorkflow {
  doc: Json;
  /** Execution id → where the node is, for messages: `subgraph "Animate" › node 7`. Only nodes inside subgraphs. */
  paths: Map<string, string>;
}

/** Every definition in the file, nested ones included, indexed by id. */
export function subgraphDefinitions(doc: Json): Map<string, Definition> {
  const found = new Map<string, Definition>();
  const collect = (holder: unknown, depth: number): void => {
    const list = ((holder as Json | undefined)?.definitions as Json | undefined)?.subgraphs;
    if (!Array.isArray(list) || depth > MAX_DEPTH) return;
    for (const raw of list as Json[]) {
      if (typeof raw?.id !== 'string' || found.has(raw.id)) continue;
      found.set(raw.id, {
        id: raw.id,
        name: typeof raw.name === 'string' ? raw.name : raw.id,
        inputs: Array.isArray(raw.inputs) ? (raw.inputs as { name: string; type?: unknown }[]) : [],
        nodes: Array.isArray(raw.nodes) ? (raw.nodes as Json[]) : [],
        links: readUiLinks(raw.links),
      });
      collect(raw, depth + 1);
    }
  };
  collect(doc, 0);
  return found;
}

export function hasSubgraphs(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && Array.isArray((doc as Json).nodes) && subgraphDefinitions(doc as Json).size > 0;
}

export function flattenSubgraphs(doc: Json): FlatWorkflow {
  const definitions = subgraphDefinitions(doc);
  const flat: Json = structuredClone(doc);
  delete flat.definitions;
  const paths = new Map<string, string>();
  if (definitions.size === 0) return { doc: flat, paths };
  const nodes: Json[] = [];
  const links: UiLink[] = [];
  let nextLinkId = 1;
  const root: Scope = {
    prefix: '', label: '', depth: 0,
    nodes: new Map((doc.nodes as Json[]).map((node) => [String(node.id), node])),
    links: new Map(readUiLinks(doc.links).map((link) => [link.id, link])),
  };

  const definitionOf = (node: Json): Definition | undefined => (typeof node.type === 'string' ? definitions.get(node.type) : undefined);
  const expands = (scope: Scope, node: Json): boolean => definitionOf(node) !== undefined && (scope.depth > 0 || !isInactiveMode(node.mode));

  const enter = (scope: Scope, instance: Json): Scope => {
    const definition = definitionOf(instance)!;
    if (scope.depth >= MAX_DEPTH) {
      throw new WorkflowParseError(`Subgraph "${definition.name}" is nested more than ${MAX_DEPTH} deep (does it contain itself?).`);
    }
    return {
      prefix: `${scope.prefix}${String(instance.id)}:`,
      label: `${scope.label}subgraph "${definition.name}" › `,
      nodes: new Map(definition.nodes.map((node) => [String(node.id), node])),
      links: new Map(definition.links.map((link) => [link.id, link])),
      parent: { scope, instance, definition },
      depth: scope.depth + 1,
    };
  };

  /** Where the value on (originId, slot) of `scope` really comes from. */
  const resolve = (scope: Scope, originId: string, slot: number, type: unknown, hops = 0): Source | undefined => {
    if (hops > 10_000) return undefined;
    if (originId === INPUT_NODE) {
      const parent = scope.parent;
      if (!parent) return undefined;
      const input = instanceInput(parent.instance, parent.definition, slot);
      const outer = typeof input?.link === 'number' ? parent.scope.links.get(input.link) : undefined;
      if (outer) return resolve(parent.scope, outer.originId, outer.originSlot, outer.type, hops + 1);
      const promoted = promotedValue(parent.instance, parent.definition, slot);
      return promoted === undefined ? undefined : { kind: 'value', value: promoted.value };
    }
    const origin = scope.nodes.get(originId);
    if (origin && expands(scope, origin)) {
      const inner = enter(scope, origin);
      const into = [...inner.links.values()].find((link) => link.targetId === OUTPUT_NODE && link.targetSlot === slot);
      return into ? resolve(inner, into.originId, into.originSlot, into.type, hops + 1) : undefined;
    }
    return { kind: 'node', id: `${scope.prefix}${originId}`, slot, type };
  };

  const emit = (scope: Scope): void => {
    for (const node of scope.nodes.values()) {
      if (expands(scope, node)) {
        emit(enter(scope, node));
        continue;
      }
      const id = `${scope.prefix}${String(node.id)}`;
      const copy: Json = { ...structuredClone(node), id };
      if (scope.prefix !== '') paths.set(id, `${scope.label}node ${String(node.id)}`);
      const inputs = Array.isArray(copy.inputs) ? (copy.inputs as Json[]) : [];
      inputs.forEach((input, slot) => {
        const link = typeof input.link === 'number' ? scope.links.get(input.link) : undefined;
        input.link = null;
        if (!link) return;
        const source = resolve(scope, link.originId, link.originSlot, link.type);
        if (!source) return;
        const originId = source.kind === 'node' ? source.id : addPrimitive(`${id}:${String(input.name)}`, source.value, input);
        const flatLink: UiLink = { id: nextLinkId++, originId, originSlot: source.kind === 'node' ? source.slot : 0, targetId: id, targetSlot: slot, type: link.type };
        links.push(flatLink);
        input.link = flatLink.id;
      });
      nodes.push(copy);
    }
  };

  /** A promoted value reaches its inner input the way a PrimitiveNode's does. */
  const addPrimitive = (id: string, value: unknown, target: Json): string => {
    const widget = (target.widget as Json | undefined)?.name ?? target.name;
    nodes.push({
      id, type: PRIMITIVE_TYPE, mode: 0, inputs: [],
      outputs: [{ name: 'connect to widget input', type: target.type, links: [], widget: { name: widget } }],
      properties: { reelgraph_promoted: true }, widgets_values: [value],
    });
    return id;
  };

  emit(root);
  const linksFrom = new Map<string, number[]>();
  for (const link of links) {
    const key = `${link.originId}#${link.originSlot}`;
    linksFrom.set(key, [...(linksFrom.get(key) ?? []), link.id]);
  }
  for (const node of nodes) {
    for (const [slot, output] of ((node.outputs ?? []) as Json[]).entries()) output.links = linksFrom.get(`${String(node.id)}#${slot}`) ?? [];
  }
  flat.nodes = nodes;
  flat.links = writeUiLinks(links, doc.version);
  if (doc.version === 1) flat.state = { ...((doc.state ?? {}) as Json), lastLinkId: nextLinkId - 1 };
  else flat.last_link_id = nextLinkId - 1;
  return { doc: flat, paths };
}

/** The instance's input for definition input k: by name (saved slots may be stale), else by position. */
function instanceInput(instance: Json, definition: Definition, slot: number): Json | undefined {
  const inputs = Array.isArray(instance.inputs) ? (instance.inputs as Json[]) : [];
  const name = definition.inputs[slot]?.name;
  return inputs.find((input) => input.name === name) ?? inputs[slot];
}

/**
 * The value the instance holds for a promoted widget on definition input k: its widgets_values in the order of
 * its inputs that carry a widget (an array), or by name (an object). Undefined: the inner widget keeps its own value.
 */
function promotedValue(instance: Json, definition: Definition, slot: number): { value: unknown } | undefined {
  const input = instanceInput(instance, definition, slot);
  if (!input?.widget) return undefined;
  const values = instance.widgets_values;
  const name = String((input.widget as Json).name ?? input.name);
  if (Array.isArray(values)) {
    const promoted = ((instance.inputs ?? []) as Json[]).filter((candidate) => candidate.widget);
    const index = promoted.indexOf(input);
    return index !== -1 && index < values.length ? { value: values[index] } : undefined;
  }
  if (typeof values === 'object' && values !== null && Object.hasOwn(values, name)) return { value: (values as Json)[name] };
  return undefined;
}
