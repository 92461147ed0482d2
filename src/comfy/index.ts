import type { z } from 'zod';
import { WorkflowParseError } from '../engine/errors.js';
import type { Graph } from '../engine/graph.js';
import type { NodeRegistry } from '../engine/registry.js';
import { apiToGraph, toApiPrompt } from './api.js';
import { graphToUiWorkflow } from './graph-to-ui.js';
import { ApiPromptSchema, fitsApiPromptSchema, UiWorkflow04Schema, UiWorkflow1Schema, type ApiPrompt } from './schemas.js';
import { readUiLinks } from './links.js';
import { migrateWorkflow, migrationsOf } from './migrate.js';
import { uiToGraph } from './ui-to-graph.js';
import { flattenSubgraphs, hasSubgraphs } from './subgraphs.js';
import { updateUiWorkflowParams } from './ui-update.js';

export { apiToGraph, toApiPrompt } from './api.js';
export { graphToUiWorkflow } from './graph-to-ui.js';
export { updateUiWorkflowParams } from './ui-update.js';
export { type ApiNode, type ApiPrompt } from './schemas.js';
export { paramSpecs, paramsJsonSchema, type ParamSpec, type WidgetKind } from '../engine/params.js';
export { widgetsToParams, paramsToWidgets } from './widgets.js';
export * from './links.js';
export * from './modes.js';
export { bypassSlotIndex, typesFit } from './bypass.js';
export { flattenSubgraphs, hasSubgraphs } from './subgraphs.js';

export interface ParsedWorkflow {
  format: 'ui' | 'api';
  graph: Graph;
  /** The original UI document, kept for re-save and provenance (subgraph definitions included). */
  ui?: Record<string, unknown>;
  api: ApiPrompt;
  /** The document the user opened, when what ran differs from it (ComfyUI Runway nodes mapped onto ours, subgraphs flattened). */
  opened?: Record<string, unknown>;
}

export interface ParseOptions {
  /** Execution id → where the node sits, for a document flattened before it got here (see ./subgraphs.ts). */
  where?: ReadonlyMap<string, string>;
}

/**
 * Any ComfyUI workflow document (UI v0.4, UI v1 or API prompt) as our graph, pure: no I/O.
 * Nodes saved with an older version of their type are migrated first. Workflows written for ComfyUI's own
 * Runway nodes are mapped by the app (src/app/parse.ts) before they reach here.
 * @throws WorkflowParseError when the document is none of these.
 */
export function parseWorkflow(input: unknown, registry: NodeRegistry, options: ParseOptions = {}): ParsedWorkflow {
  const { json } = migrateWorkflow(input, migrationsOf(registry));
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WorkflowParseError('The workflow must be a JSON object (a ComfyUI UI workflow or an API prompt).');
  }
  const doc = json as Record<string, unknown>;
  if (Array.isArray(doc.nodes)) {
    // Subgraphs run flattened; `ui` keeps the definitions, so a re-save leaves them as they were.
    const flat = hasSubgraphs(doc) ? flattenSubgraphs(doc) : undefined;
    const graph = parseUi(flat?.doc ?? doc, registry, flat?.paths ?? options.where);
    return withLazyApi({ format: 'ui', graph, ui: doc }, graph);
  }
  const notApi = entryWithoutClassType(doc);
  if (notApi !== undefined) {
    throw new WorkflowParseError(
      `The workflow is neither a UI workflow (it has no "nodes" list) nor an API prompt (entry "${notApi}" has no class_type).`,
    );
  }
  const prompt = fitsApiPromptSchema(doc) ? doc : (check(ApiPromptSchema, doc, 'API prompt') as ApiPrompt);
  const graph = apiToGraph(prompt);
  return withLazyApi({ format: 'api', graph }, graph);
}

/**
 * `api` is computed on first read: validation never needs it, and on a big file it costs as much as the graph.
 * Reading it (or copying the object) fixes its value.
 */
export function withLazyApi(parsed: Omit<ParsedWorkflow, 'api'>, graph: Graph): ParsedWorkflow {
  let api: ApiPrompt | undefined;
  return Object.defineProperty(parsed, 'api', {
    enumerable: true,
    configurable: true,
    get: () => (api ??= toApiPrompt(graph)),
    set: (value: ApiPrompt) => {
      api = value;
    },
  }) as ParsedWorkflow;
}

function entryWithoutClassType(doc: Record<string, unknown>): string | undefined {
  for (const id in doc) {
    if (!Object.hasOwn(doc, id)) continue;
    const value = doc[id];
    if (typeof value !== 'object' || value === null || !('class_type' in value)) return id;
  }
  return undefined;
}

function parseUi(doc: Record<string, unknown>, registry: NodeRegistry, where?: ReadonlyMap<string, string>): Graph {
  if (doc.version === 1) {
    const v1 = check(UiWorkflow1Schema, doc, 'UI workflow (version 1)');
    return uiToGraph(v1.nodes, readUiLinks(v1.links), registry, where);
  }
  const v04 = check(UiWorkflow04Schema, doc, 'UI workflow (version 0.4)');
  return uiToGraph(v04.nodes, readUiLinks(v04.links), registry, where);
}

function check<T extends z.ZodType>(schema: T, doc: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problems)` : '';
  throw new WorkflowParseError(`The ${what} is malformed at ${path || 'the top level'}: ${issue.message}${more}.`);
}

/** UI → API or API → UI (or a UI re-save that keeps every unknown key). */
export function convertWorkflow(json: unknown, to: 'api' | 'ui', registry: NodeRegistry): Record<string, unknown> {
  const parsed = parseWorkflow(json, registry);
  if (to === 'api') return withTitles(parsed.api, registry);
  if (parsed.ui) return updateUiWorkflowParams(parsed.ui, parsed.graph, registry);
  return graphToUiWorkflow(parsed.graph, registry);
}

/** Every node gets `_meta.title` as ComfyUI's Export (API) writes it: its own title, else its type's display name. */
function withTitles(prompt: ApiPrompt, registry: NodeRegistry): ApiPrompt {
  const titled: ApiPrompt = {};
  for (const [id, node] of Object.entries(prompt)) {
    const title = node._meta?.title ?? registry.get(node.class_type)?.displayName ?? node.class_type;
    titled[id] = { ...node, _meta: { ...node._meta, title } };
  }
  return titled;
}
