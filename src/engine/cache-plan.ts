import type { OutputCache } from './cache.js';
import type { AnyNodeDefinition, CacheCheckContext, Values } from './define-node.js';
import { upstreamClosure } from './graph-queries.js';
import type { Graph } from './graph.js';
import type { NodeRegistry } from './registry.js';

/**
 * Which nodes a run takes from the cache and which it runs. The executor and the dry run
 * (`src/app/dry-run.ts`) both call these, so a dry run can never disagree with a real run.
 */

/**
 * Output nodes are what a run is for: the nodes it runs are theirs and what they need. False for an unknown type.
 */
export function isOutputDefinition(def: AnyNodeDefinition | undefined): boolean {
  return def?.outputNode === true;
}

/** The ids of every node whose type is an output node, in graph order. */
export function outputNodes(graph: Graph, registry: NodeRegistry): string[] {
  return [...graph.nodes.values()].filter((node) => isOutputDefinition(registry.get(node.type))).map((node) => node.id);
}

/** The first declared output that `outputs` lacks, if any. */
export function missingOutput(def: AnyNodeDefinition, outputs: Values): string | undefined {
  // A loop, not find(): the executor asks this for every node it runs.
  for (const output of def.outputs) if (!(output.name in outputs)) return output.name;
  return undefined;
}

export interface CacheLookup {
  /** Node ids to look up, in plan order. */
  order: string[];
  defOf: (id: string) => AnyNodeDefinition;
  keys: Map<string, string>;
  /** Nodes whose outputs change on every run; never taken from the cache. */
  volatile: Set<string>;
  /** No cache means no hits (--no-cache). */
  cache?: OutputCache;
  /** Passed to each definition's isCacheValid. */
  check?: CacheCheckContext;
}

/** Usable cache entries: cacheable, complete, and still valid by the definition's own check. */
export async function findCacheHits(lookup: CacheLookup): Promise<Map<string, Values>> {
  const hits = new Map<string, Values>();
  const { cache, check = {} } = lookup;
  if (!cache) return hits;
  for (const id of lookup.order) {
    const def = lookup.defOf(id);
    if (def.cacheable === false || lookup.volatile.has(id)) continue;
    const outputs = await cache.get(lookup.keys.get(id)!);
    if (!outputs || missingOutput(def, outputs) !== undefined) continue;
    // A check that throws counts as invalid: running again is safer than reusing a doubtful entry.
    if (def.isCacheValid && !(await def.isCacheValid(outputs, check).catch(() => false))) continue;
    hits.set(id, outputs);
  }
  return hits;
}

/** Walks back from the targets; a cached node needs nothing upstream of it. */
export function nodesToRun(graph: Graph, hits: ReadonlyMap<string, unknown>, targets: string[]): Set<string> {
  return upstreamClosure(graph, targets, (id) => hits.has(id));
}
