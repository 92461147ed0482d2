import type { Graph, GraphNode } from './graph.js';
import { indexGraph, markUpstream } from './graph-index.js';

/** The questions every part asks of a graph, answered in one place (and in linear time). */

/** For each node id, the nodes that take an input from it, in file order. */
export function consumerIndex(graph: Graph): Map<string, GraphNode[]> {
  const index = new Map<string, GraphNode[]>();
  for (const node of graph.nodes.values()) {
    for (const name in node.inputs) {
      const from = node.inputs[name]!.from;
      const list = index.get(from);
      // A node reading one source twice is listed once: its entries for that source are the list's last.
      if (!list) index.set(from, [node]);
      else if (list[list.length - 1] !== node) list.push(node);
    }
  }
  return index;
}

/**
 * Whether the links close a loop, in linear time (Kahn's counting, no sort): validation asks this of every graph
 * and looks for the cycle's path only when there is one. Links to missing nodes are ignored. Nodes are numbered
 * and the links kept in typed arrays: on a 100k-node file, maps keyed by node cost several times more.
 */
export function hasCycle(graph: Graph): boolean {
  const rank = new Map<string, number>();
  for (const id of graph.nodes.keys()) rank.set(id, rank.size);
  const count = rank.size;
  const waiting = new Int32Array(count);
  // Each source's links as a list threaded through `next`: firstLink[source] → link → next[link] → … → -1.
  const firstLink = new Int32Array(count).fill(-1);
  const target: number[] = [];
  const next: number[] = [];
  let index = 0;
  for (const node of graph.nodes.values()) {
    for (const name in node.inputs) {
      const source = rank.get(node.inputs[name]!.from);
      if (source === undefined) continue;
      waiting[index]!++;
      target.push(index);
      next.push(firstLink[source]!);
      firstLink[source] = target.length - 1;
    }
    index++;
  }
  const ready: number[] = [];
  for (let node = 0; node < count; node++) if (waiting[node] === 0) ready.push(node);
  let done = 0;
  while (ready.length > 0) {
    const node = ready.pop()!;
    done++;
    for (let link = firstLink[node]!; link !== -1; link = next[link]!) if (--waiting[target[link]!]! === 0) ready.push(target[link]!);
  }
  return done < count;
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
