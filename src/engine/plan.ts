import type { Graph } from './graph.js';
import type { NodeRegistry } from './registry.js';

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

/** Orders the graph. Links to missing nodes are ignored here; validation reports them. */
export function planGraph(graph: Graph, _registry?: NodeRegistry): Plan {
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const [id, node] of graph.nodes) {
    const sources = new Set(Object.values(node.inputs).map((link) => link.from));
    let count = 0;
    for (const source of sources) {
      if (!graph.nodes.has(source)) continue;
      count++;
      dependents.set(source, [...(dependents.get(source) ?? []), id]);
    }
    waiting.set(id, count);
  }
  const ready = [...waiting].filter(([, count]) => count === 0).map(([id]) => id);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort(compareIds);
    const id = ready.shift()!;
    order.push(id);
    for (const dependent of dependents.get(id) ?? []) {
      const left = waiting.get(dependent)! - 1;
      waiting.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
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

/** A cycle as a closed path in dependency direction (source before consumer), or undefined. */
export function findCycle(graph: Graph): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  // Walk from consumers to sources; the path found is reversed at the end.
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'active');
    stack.push(id);
    const node = graph.nodes.get(id)!;
    const sources = [...new Set(Object.values(node.inputs).map((link) => link.from))].sort(compareIds);
    for (const source of sources) {
      if (!graph.nodes.has(source)) continue;
      if (state.get(source) === 'active') return [...stack.slice(stack.indexOf(source)), source].reverse();
      if (state.get(source) === undefined) {
        const found = visit(source);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of [...graph.nodes.keys()].sort(compareIds)) {
    if (state.get(id) !== undefined) continue;
    const found = visit(id);
    if (found) return rotateToSmallest(found);
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
