import type { Graph, GraphNode } from './graph.js';
import { compareIds } from './ids.js';
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
  /** The input name of each link, as a number in `names`, and the source's output slot, beside linkFrom. */
  linkName: Int32Array;
  names: string[];
  linkSlot: Int32Array;
  /** The number of a node id, if the graph has it. */
  numberOf(id: string): number | undefined;
  /** The ids are in compareIds order (the usual API prompt). */
  idsInOrder: boolean;
  /** Every link comes from a node numbered before its consumer (or from a node not in the graph). */
  linksForward: boolean;
}

/**
 * `visit` sees each node with its number, in the pass that reads the node's links: on a 100k-node graph each
 * further pass over the caller's nodes costs a cache miss per node.
 */
export function indexGraph(graph: Graph, visit?: (node: GraphNode, number: number) => void): GraphIndex {
  const count = graph.nodes.size;
  // Every array made here has its final size from the start (typed arrays: room to spare, which costs nothing until
  // written). A 100k-node run once grew its arrays by pushing, copy after copy: the fresh memory each copy takes cost
  // ~15k page faults, a tenth of the run's time, and a cost the 10k run does not pay.
  const ids = new Array<string>(count);
  const nodes = new Array<GraphNode>(count);
  // A null-prototype record rather than a Map: numeric ids (ComfyUI's) are then array indices, found without
  // hashing or comparing strings; other ids cost what a Map costs.
  const numbers: Record<string, number> = emptyRecord<number>();
  let next = 0;
  let idsInOrder = true;
  // forEach, not for…of: no [id, node] pair per node.
  graph.nodes.forEach((node, id) => {
    if (idsInOrder && next > 0) idsInOrder = compareIds(ids[next - 1]!, id) <= 0;
    numbers[id] = next;
    ids[next] = id;
    nodes[next++] = node;
  });
  // Four links a node before growing: few nodes have more inputs, and untouched room is only address space.
  const linkStart = new Int32Array(count + 1);
  let linkFrom: Int32Array = new Int32Array(4 * count + 8);
  let linkSlot: Int32Array = new Int32Array(4 * count + 8);
  let linkName: Int32Array = new Int32Array(4 * count + 8);
  // The few input names every node shares ("image", "video"…), each numbered once.
  const names: string[] = [];
  const nameNumbers = new Map<string, number>();
  let k = 0;
  let linksForward = true;
  for (let i = 0; i < count; i++) {
    linkStart[i] = k;
    const node = nodes[i]!;
    visit?.(node, i);
    const inputs = node.inputs;
    // Object.keys, not for…in: much faster on null-prototype (dictionary) records, which some graphs still carry; and
    // an indexed loop, see executeGraph.
    const inputNames = Object.keys(inputs);
    for (let n = 0; n < inputNames.length; n++) {
      const name = inputNames[n]!;
      if (k === linkFrom.length) [linkFrom, linkSlot, linkName] = [grown(linkFrom), grown(linkSlot), grown(linkName)];
      const link = inputs[name]!;
      const from = numbers[link.from] ?? -1;
      if (from >= i) linksForward = false;
      linkFrom[k] = from;
      linkSlot[k] = link.slot;
      let nameNumber = nameNumbers.get(name);
      if (nameNumber === undefined) nameNumbers.set(name, (nameNumber = names.push(name) - 1));
      linkName[k++] = nameNumber;
    }
  }
  linkStart[count] = k;
  return {
    ids,
    nodes,
    linkStart,
    linkFrom: linkFrom.subarray(0, k),
    linkName: linkName.subarray(0, k),
    names,
    linkSlot: linkSlot.subarray(0, k),
    numberOf: (id) => numbers[id],
    idsInOrder,
    linksForward,
  };
}

function grown(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** An array of `length` undefined values, allocated once at its final size (not grown by pushing, see indexGraph). */
export function filledArray<T>(length: number): (T | undefined)[] {
  return new Array<T | undefined>(length).fill(undefined);
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
export function markUpstream(index: GraphIndex, targets: ArrayLike<number>, skip?: Uint8Array): Uint8Array {
  const { linkStart, linkFrom } = index;
  const marks = new Uint8Array(index.ids.length);
  // Each node is walked past once, so the stack never holds more than the targets and every link.
  const stack = new Int32Array(targets.length + linkFrom.length);
  let top = 0;
  for (let t = 0; t < targets.length; t++) stack[top++] = targets[t]!;
  while (top > 0) {
    const i = stack[--top]!;
    if (marks[i] === 1 || skip?.[i] === 1) continue;
    marks[i] = 1;
    for (let k = linkStart[i]!; k < linkStart[i + 1]!; k++) if (linkFrom[k]! >= 0) stack[top++] = linkFrom[k]!;
  }
  return marks;
}
