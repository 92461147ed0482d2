import type { Graph } from './graph.js';
import { MinHeap } from './min-heap.js';

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
  const ids = sortedIds(graph);
  const rank = new Map(ids.map((id, index) => [id, index]));
  const dependents: number[][] = ids.map(() => []);
  const waiting = new Int32Array(ids.length);
  for (const [index, id] of ids.entries()) {
    for (const source of distinctSources(graph, id)) {
      const from = rank.get(source);
      if (from === undefined) continue;
      waiting[index]!++;
      dependents[from]!.push(index);
    }
  }
  const ready = new MinHeap();
  for (let index = 0; index < ids.length; index++) if (waiting[index] === 0) ready.push(index);
  const order: string[] = [];
  for (let index = ready.pop(); index !== undefined; index = ready.pop()) {
    order.push(ids[index]!);
    for (const dependent of dependents[index]!) if (--waiting[dependent]! === 0) ready.push(dependent);
  }
  if (order.length === graph.nodes.size) return { order };
  return { order, cycle: findCycle(graph) };
}

/** Numeric ids in numeric order first, then the rest in string order. */
export function compareIds(a: string, b: string): number {
  const numA = /^\d+$/.test(a);
  const numB = /^\d+$/.test(b);
  if (numA && numB) return Number(a) - Number(b) || a.localeCompare(b);
  if (numA !== numB) return numA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The graph's ids in compareIds order; each id is classified once, not on every comparison. */
function sortedIds(graph: Graph): string[] {
  const keyed = [...graph.nodes.keys()].map((id) => ({ id, numeric: /^\d+$/.test(id), value: Number(id) }));
  keyed.sort((a, b) => {
    if (a.numeric && b.numeric) return a.value - b.value || a.id.localeCompare(b.id);
    if (a.numeric !== b.numeric) return a.numeric ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return keyed.map((entry) => entry.id);
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
