import type { Graph, GraphNode } from './graph.js';
import { emptyRecord } from './records.js';

/**
 * The graph with its nodes numbered 0…n-1 in file order and every link turned into a number, built once per run.
 * The planner, the walk back from the targets and the executor then count and look up by array index: at 100k nodes,
 * hashing id strings scattered over memory at every step cost more than the nodes' own work, and grew faster than
 * the node count.
 */
export interface GraphIndex {
  /** Node ids in file order; a node's number is its position here. */
  ids: string[];
  nodes: GraphNode[];
  /**
   * Node i's links, in the order of its inputs, are linkFrom[linkStart[i]] … linkFrom[linkStart[i + 1] - 1]:
   * the number of the source node, or -1 when the link points at a node that is not in the graph.
   */
  linkStart: Int32Array;
  linkFrom: Int32Array;
  /** The input name and the source's output slot of each link, beside linkFrom. */
  linkName: string[];
  linkSlot: Int32Array;
  /** The number of a node id, if the graph has it. */
  numberOf(id: string): number | undefined;
}

export function indexGraph(graph: Graph): GraphIndex {
  const count = graph.nodes.size;
  const ids: string[] = [];
  const nodes: GraphNode[] = [];
  // A null-prototype record rather than a Map: numeric ids (ComfyUI's) are then array indices, found without
  // hashing or comparing strings; other ids cost what a Map costs.
  const numbers: Record<string, number> = emptyRecord<number>();
  // forEach, not for…of: no [id, node] pair per node.
  graph.nodes.forEach((node, id) => {
    numbers[id] = ids.length;
    ids.push(id);
    nodes.push(node);
  });
  // Typed arrays grown by doubling: numbers pushed on plain arrays and copied out cost more, and more so at 100k.
  const linkStart = new Int32Array(count + 1);
  let linkFrom: Int32Array = new Int32Array(2 * count + 8);
  let linkSlot: Int32Array = new Int32Array(2 * count + 8);
  const linkName: string[] = [];
  let k = 0;
  for (let i = 0; i < count; i++) {
    linkStart[i] = k;
    const inputs = nodes[i]!.inputs;
    // Object.keys, not for…in: much faster on the null-prototype records the formats build.
    for (const name of Object.keys(inputs)) {
      if (k === linkFrom.length) [linkFrom, linkSlot] = [grown(linkFrom), grown(linkSlot)];
      const link = inputs[name]!;
      linkFrom[k] = numbers[link.from] ?? -1;
      linkSlot[k++] = link.slot;
      linkName.push(name);
    }
  }
  linkStart[count] = k;
  linkFrom = linkFrom.subarray(0, k);
  linkSlot = linkSlot.subarray(0, k);
  return { ids, nodes, linkStart, linkFrom, linkName, linkSlot, numberOf: (id) => numbers[id] };
}

function grown(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** An array of `length` holes filled in, so V8 keeps it a plain array: `new Array(100_000)` is a slow dictionary. */
export function filledArray<T>(length: number): (T | undefined)[] {
  const array: (T | undefined)[] = [];
  for (let i = 0; i < length; i++) array.push(undefined);
  return array;
}

/**
 * The nodes that take an input from node i are dependentFrom[dependentStart[i]] … dependentFrom[dependentStart[i + 1] - 1],
 * once per link (a node linked twice to the same source is listed twice), in file order.
 */
export interface Dependents {
  dependentStart: Int32Array;
  dependentFrom: Int32Array;
}

export function dependentsOf(index: GraphIndex): Dependents {
  const count = index.ids.length;
  const { linkStart, linkFrom } = index;
  const dependentStart = new Int32Array(count + 1);
  for (let k = 0; k < linkFrom.length; k++) if (linkFrom[k]! >= 0) dependentStart[linkFrom[k]! + 1]!++;
  for (let i = 0; i < count; i++) dependentStart[i + 1]! += dependentStart[i]!;
  const fill = dependentStart.slice(0, count);
  const dependentFrom = new Int32Array(dependentStart[count]!);
  for (let i = 0; i < count; i++) {
    for (let k = linkStart[i]!; k < linkStart[i + 1]!; k++) {
      const source = linkFrom[k]!;
      if (source >= 0) dependentFrom[fill[source]!++] = i;
    }
  }
  return { dependentStart, dependentFrom };
}

/**
 * The targets and everything they depend on, walking links back: marks[i] is 1 for each such node. A node for
 * which `skip` is 1 is left out and not walked past (a cached node needs nothing upstream of it).
 */
export function markUpstream(index: GraphIndex, targets: Iterable<number>, skip?: Uint8Array): Uint8Array {
  const { linkStart, linkFrom } = index;
  const marks = new Uint8Array(index.ids.length);
  const stack: number[] = [];
  for (const target of targets) stack.push(target);
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (marks[i] === 1 || skip?.[i] === 1) continue;
    marks[i] = 1;
    for (let k = linkStart[i]!; k < linkStart[i + 1]!; k++) if (linkFrom[k]! >= 0) stack.push(linkFrom[k]!);
  }
  return marks;
}
