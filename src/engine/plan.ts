import type { Graph } from './graph.js';
import { dependentsOf, indexGraph, type Dependents, type GraphIndex } from './graph-index.js';
import { MinHeap } from './min-heap.js';
import { compareIds, compareNumbered, idsInOrder, numericId } from './ids.js';

/**
 * Deterministic execution order (Kahn's algorithm). Ties go to the smaller id,
 * numeric ids before other ids, so the same file always runs in the same order.
 */

export interface Plan {
  /** Every node not on or behind a cycle, dependencies first. */
  order: string[];
  /** A dependency cycle as a closed path, e.g. ["1", "2", "1"], when there is one. */
  cycle?: string[];
}

/** Orders the graph in linear time (plus a sort of the ids). Links to missing nodes are ignored here; validation reports them. */
export function planGraph(graph: Graph): Plan {
  const index = indexGraph(graph);
  const { order, complete } = planIndexed(index, dependentsOf(index));
  const ids = Array.from(order, (i) => index.ids[i]!);
  return complete ? { order: ids } : { order: ids, cycle: findCycle(graph) };
}

/** The plan as node numbers of the index; `complete` is false when a cycle kept some nodes out. */
export function planIndexed(index: GraphIndex, { dependentStart, dependentFrom }: Dependents): { order: Int32Array; complete: boolean } {
  const count = index.ids.length;
  const { linkStart, linkFrom } = index;
  // When the ids are in order and every link runs from a smaller id to a larger one (the usual API prompt), the id
  // order is the plan: Kahn's sort taking the smallest ready id first would give exactly that order, so it is not run.
  if (index.idsInOrder && index.linksForward) return { order: identity(count), complete: true };
  const byRank = rankOrder(index.ids, index.idsInOrder);
  const rank = new Int32Array(count);
  for (let r = 0; r < count; r++) rank[byRank[r]!] = r;
  // Counted up and down once per link, so two links from one source wait for it as one would.
  const waiting = new Int32Array(count);
  for (let i = 0; i < count; i++) for (let k = linkStart[i]!; k < linkStart[i + 1]!; k++) if (linkFrom[k]! >= 0) waiting[i]!++;
  const ready = new MinHeap(count);
  for (let r = 0; r < count; r++) if (waiting[byRank[r]!] === 0) ready.push(r);
  const order = new Int32Array(count);
  let length = 0;
  for (let r = ready.pop(); r !== undefined; r = ready.pop()) {
    const i = byRank[r]!;
    order[length++] = i;
    for (let k = dependentStart[i]!; k < dependentStart[i + 1]!; k++) {
      const dependent = dependentFrom[k]!;
      if (--waiting[dependent]! === 0) ready.push(rank[dependent]!);
    }
  }
  return { order: order.subarray(0, length), complete: length === count };
}

function identity(count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/** The positions of `ids` in compareIds order: each id is classified once, not on every comparison, then sorted. */
function rankOrder(ids: string[], inOrder = idsInOrder(ids)): Int32Array {
  if (inOrder) return identity(ids.length);
  const keyed = ids.map((id, position) => ({ id, position, value: numericId(id) }));
  keyed.sort((a, b) => compareNumbered(a.id, a.value, b.id, b.value));
  return Int32Array.from(keyed, (entry) => entry.position);
}

/** The graph's ids in compareIds order. */
function sortedIds(graph: Graph): string[] {
  const ids = [...graph.nodes.keys()];
  return Array.from(rankOrder(ids), (position) => ids[position]!);
}

function distinctSources(graph: Graph, id: string): Set<string> {
  const sources = new Set<string>();
  const inputs = graph.nodes.get(id)!.inputs;
  for (const name in inputs) sources.add(inputs[name]!.from);
  return sources;
}

/**
 * A cycle as a closed path in dependency direction (source before consumer), or undefined.
 * Depth-first from consumers to sources with an explicit stack: a 700k-node chain must not overflow the call stack.
 */
export function findCycle(graph: Graph): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  /** The current path: each node with its sources still to visit. */
  const path: { id: string; sources: string[]; next: number }[] = [];
  const depth = new Map<string, number>();
  const enter = (id: string) => {
    state.set(id, 'active');
    depth.set(id, path.length);
    path.push({ id, sources: [...distinctSources(graph, id)].filter((source) => graph.nodes.has(source)).sort(compareIds), next: 0 });
  };
  for (const root of sortedIds(graph)) {
    if (state.has(root)) continue;
    enter(root);
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const source = top.sources[top.next++];
      if (source === undefined) {
        path.pop();
        depth.delete(top.id);
        state.set(top.id, 'done');
      } else if (state.get(source) === 'active') {
        const closed = [...path.slice(depth.get(source)!).map((entry) => entry.id), source].reverse();
        return rotateToSmallest(closed);
      } else if (!state.has(source)) {
        enter(source);
      }
    }
  }
  return undefined;
}

/** Start the closed path at its smallest id so the message is stable. */
function rotateToSmallest(path: string[]): string[] {
  const open = path.slice(0, -1);
  const start = open.indexOf([...open].sort(compareIds)[0]!);
  const rotated = [...open.slice(start), ...open.slice(0, start)];
  return [...rotated, rotated[0]!];
}

/** "1 (A) -> 2 (B) -> 1 (A)" */
export function formatCyclePath(graph: Graph, cycle: string[]): string {
  return cycle.map((id) => `${id} (${graph.nodes.get(id)?.type ?? '?'})`).join(' -> ');
}
