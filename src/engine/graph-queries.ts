import type { Graph, GraphNode } from './graph.js';
import { indexGraph, markUpstream } from './graph-index.js';

/** The questions every part asks of a graph, answered in one place (and in linear time). */

/** For each node id, the nodes that take an input from it, in file order. */
export function consumerIndex(graph: Graph): Map<string, GraphNode[]> {
  const index = new Map<string, GraphNode[]>();
  for (const node of graph.nodes.values()) {
    const sources = new Set(Object.values(node.inputs).map((link) => link.from));
    for (const from of sources) {
      const list = index.get(from);
      if (list) list.push(node);
      else index.set(from, [node]);
    }
  }
  return index;
}

/** The nodes that take an input from `nodeId` (one scan; build a consumerIndex to ask for many nodes). */
export function consumersOf(graph: Graph, nodeId: string): GraphNode[] {
  return [...graph.nodes.values()].filter((node) => Object.values(node.inputs).some((link) => link.from === nodeId));
}

/**
 * The targets and everything they depend on, walking links back. A node for which `skip` says true is
 * left out and not walked past (a cached node needs nothing upstream of it). Ids not in the graph are left out.
 */
export function upstreamClosure(graph: Graph, targets: Iterable<string>, skip?: (id: string) => boolean): Set<string> {
  const index = indexGraph(graph);
  const numbers: number[] = [];
  for (const id of targets) {
    const number = index.numberOf(id);
    if (number !== undefined) numbers.push(number);
  }
  const skipped = skip ? Uint8Array.from(index.ids, (id) => (skip(id) ? 1 : 0)) : undefined;
  const marks = markUpstream(index, numbers, skipped);
  return new Set(index.ids.filter((_, i) => marks[i] === 1));
}

/** `nodeId` and every node downstream of it. */
export function downstreamClosure(graph: Graph, nodeId: string, index = consumerIndex(graph)): Set<string> {
  const seen = new Set<string>([nodeId]);
  const stack = [nodeId];
  while (stack.length > 0) {
    for (const consumer of index.get(stack.pop()!) ?? []) {
      if (seen.has(consumer.id)) continue;
      seen.add(consumer.id);
      stack.push(consumer.id);
    }
  }
  return seen;
}
