import { createHash, randomUUID } from 'node:crypto';
import type { FilesContext } from './define-node.js';
import type { Graph } from './graph.js';
import type { NodeRegistry } from './registry.js';
import { emptyRecord } from './records.js';

/**
 * Cache keys are content addresses: the same node type, version, params, external
 * fingerprint and ancestry give the same key, whatever the node ids are
 * (ComfyUI's input-signature cache, docs/comfyui.md §1).
 */

/** JSON with object keys sorted at every level; non-finite numbers are spelled out. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(`$number:${value}`);
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface CacheKeyParts {
  type: string;
  version: number;
  params: Record<string, unknown>;
  /** The definition's fingerprint of external inputs, or null when it has none. */
  fingerprint: string | null;
  /** Per input name: the source node's key and the output slot used. */
  inputs: Record<string, { key: string; slot: number }>;
}

export function cacheKey(parts: CacheKeyParts): string {
  const inputs = Object.entries(parts.inputs)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, source]) => [name, source.key, source.slot]);
  return sha256Hex(canonicalJson([parts.type, parts.version, parts.params, parts.fingerprint, inputs]));
}

/**
 * Every node's cache key, dependencies first. A fingerprint that throws makes the key
 * unique to this run (ComfyUI's NaN is_changed), so the node and its dependents re-run.
 */
export async function computeCacheKeys(
  graph: Graph,
  registry: NodeRegistry,
  order: string[],
  params: Map<string, Record<string, unknown>>,
  files: FilesContext,
): Promise<{ keys: Map<string, string>; volatile: Set<string> }> {
  const keys = new Map<string, string>();
  const volatile = new Set<string>();
  for (const id of order) {
    const node = graph.nodes.get(id)!;
    const def = registry.get(node.type)!;
    const nodeParams = params.get(id) ?? node.params;
    let fingerprint: string | null = null;
    try {
      if (def.fingerprint) fingerprint = await def.fingerprint(nodeParams, { files });
    } catch {
      volatile.add(id);
      fingerprint = `volatile:${randomUUID()}`;
    }
    const inputs: CacheKeyParts['inputs'] = emptyRecord();
    for (const [name, link] of Object.entries(node.inputs)) {
      inputs[name] = { key: keys.get(link.from) ?? `missing:${link.from}`, slot: link.slot };
      if (volatile.has(link.from)) volatile.add(id);
    }
    keys.set(id, cacheKey({ type: node.type, version: def.version, params: nodeParams, fingerprint, inputs }));
  }
  return { keys, volatile };
}
