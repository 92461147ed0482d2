/**
 * Node version migrations, applied to the workflow document before it is parsed, so a
 * file saved by an older reelgraph keeps working after a node's params change.
 * Each node records its version (UI: `properties.ver`, or `version`; API: `_meta.version`);
 * a node with no recorded version is taken to be current. Migrations touch only the
 * widget values and the version: every other key survives load and re-save.
 */

import type { NodeMigration as DefinedMigration } from '../engine/define-node.js';
import type { NodeRegistry } from '../engine/registry.js';

type Json = Record<string, unknown>;

/** A node definition's migration, with the type it belongs to. */
export interface NodeMigration extends DefinedMigration {
  type: string;
}

/** Every migration the registry's node definitions declare, oldest first per type. */
export function migrationsOf(registry: NodeRegistry): NodeMigration[] {
  return registry.list().flatMap((def) => (def.migrations ?? []).map((step) => ({ ...step, type: def.type })));
}

export interface AppliedMigration {
  nodeId: string;
  type: string;
  from: number;
  to: number;
  description: string;
}

/** A copy of the workflow with every node brought to the newest version the table knows. */
export function migrateWorkflow(json: unknown, migrations: NodeMigration[]): { json: unknown; applied: AppliedMigration[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || migrations.length === 0) return { json, applied: [] };
  const steps = stepIndex(migrations);
  // Every load passes through here; copy (possibly large) documents only when something changes.
  const stale = nodeViews(json as Json, steps).some((view) => chain(view.type, view.version(), steps).length > 0);
  if (!stale) return { json, applied: [] };
  const copy = structuredClone(json) as Json;
  const applied: AppliedMigration[] = [];
  for (const view of nodeViews(copy, steps)) {
    for (const step of chain(view.type, view.version(), steps)) {
      view.apply(step);
      applied.push({ nodeId: view.id, type: view.type, from: step.from, to: step.to, description: step.description });
    }
  }
  return { json: copy, applied };
}

/** type → from-version → step; the first step listed for a version wins. */
type StepIndex = Map<string, Map<number, NodeMigration>>;

function stepIndex(migrations: NodeMigration[]): StepIndex {
  const index: StepIndex = new Map();
  for (const step of migrations) {
    let byVersion = index.get(step.type);
    if (!byVersion) index.set(step.type, (byVersion = new Map()));
    if (!byVersion.has(step.from)) byVersion.set(step.from, step);
  }
  return index;
}

/** Views of the nodes whose type has migrations at all: on a big file most nodes need no view. */
function nodeViews(doc: Json, steps: StepIndex): NodeView[] {
  const views: NodeView[] = [];
  const add = (view: NodeView | undefined) => {
    if (view) views.push(view);
  };
  if (Array.isArray(doc.nodes)) {
    for (const node of doc.nodes as unknown[]) if (steps.has(typeOf(node, 'type'))) add(uiView(node));
  } else {
    for (const id in doc) if (Object.hasOwn(doc, id) && steps.has(typeOf(doc[id], 'class_type'))) add(apiView(id, doc[id]));
  }
  return views;
}

function typeOf(node: unknown, key: string): string {
  const type = typeof node === 'object' && node !== null ? (node as Json)[key] : undefined;
  return typeof type === 'string' ? type : '';
}

/** The consecutive steps from `version` upward; none when the version is unknown or current. */
function chain(type: string, version: number | undefined, steps: StepIndex): NodeMigration[] {
  const found: NodeMigration[] = [];
  const byVersion = steps.get(type);
  for (let current = version; current !== undefined && byVersion; ) {
    const step = byVersion.get(current);
    if (!step) break;
    found.push(step);
    current = step.to;
  }
  return found;
}

interface NodeView {
  id: string;
  type: string;
  version(): number | undefined;
  apply(step: NodeMigration): void;
}

function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function uiView(raw: unknown): NodeView | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const node = raw as Json;
  if (typeof node.type !== 'string') return undefined;
  const properties = (typeof node.properties === 'object' && node.properties !== null ? node.properties : {}) as Json;
  return {
    id: String(node.id),
    type: node.type,
    version: () => numberOf(node.version) ?? numberOf(properties.ver),
    apply(step) {
      if (Array.isArray(node.widgets_values)) node.widgets_values = step.widgets(node.widgets_values);
      else if (typeof node.widgets_values === 'object' && node.widgets_values !== null) node.widgets_values = step.inputs(node.widgets_values as Json);
      if (node.version !== undefined) node.version = step.to;
      node.properties = { ...properties, ver: String(step.to) };
    },
  };
}

function apiView(id: string, raw: unknown): NodeView | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const node = raw as Json;
  if (typeof node.class_type !== 'string') return undefined;
  const meta = (typeof node._meta === 'object' && node._meta !== null ? node._meta : {}) as Json;
  return {
    id,
    type: node.class_type,
    version: () => numberOf(meta.version),
    apply(step) {
      node.inputs = step.inputs((node.inputs ?? {}) as Json);
      node._meta = { ...meta, version: step.to };
    },
  };
}
