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
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { json, applied: [] };
  // Every load passes through here; copy (possibly large) documents only when something changes.
  const stale = nodeViews(json as Json).some((view) => chain(view.type, view.version(), migrations).length > 0);
  if (!stale) return { json, applied: [] };
  const copy = structuredClone(json) as Json;
  const applied: AppliedMigration[] = [];
  for (const view of nodeViews(copy)) {
    for (const step of chain(view.type, view.version(), migrations)) {
      view.apply(step);
      applied.push({ nodeId: view.id, type: view.type, from: step.from, to: step.to, description: step.description });
    }
  }
  return { json: copy, applied };
}

function nodeViews(doc: Json): NodeView[] {
  const views = Array.isArray(doc.nodes) ? doc.nodes.map((node: unknown) => uiView(node)) : Object.entries(doc).map(([id, node]) => apiView(id, node));
  return views.filter((view): view is NodeView => view !== undefined);
}

/** The consecutive steps from `version` upward; none when the version is unknown or current. */
function chain(type: string, version: number | undefined, migrations: NodeMigration[]): NodeMigration[] {
  const steps: NodeMigration[] = [];
  for (let current = version; current !== undefined; ) {
    const step = migrations.find((m) => m.type === type && m.from === current);
    if (!step) break;
    steps.push(step);
    current = step.to;
  }
  return steps;
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
