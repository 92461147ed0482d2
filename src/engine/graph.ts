/**
 * The one internal graph every format is parsed into. Links are tagged objects,
 * never shape-sniffed arrays.
 */

export interface LinkRef {
  /** Id of the node that produces the value. */
  from: string;
  /** Index of that node's output socket. */
  slot: number;
}

export interface GraphNode {
  id: string;
  type: string;
  /** Named widget values (after positional mapping for UI workflows). */
  params: Record<string, unknown>;
  /** Linked inputs by input name. */
  inputs: Record<string, LinkRef>;
  title?: string;
  /** The version the workflow recorded for this node type, if any. */
  version?: number;
  /** Raw positional widgets_values of a node whose type is unknown, kept for messages and re-save. */
  rawWidgets?: unknown[];
}

export interface Graph {
  /** In file order. */
  nodes: Map<string, GraphNode>;
}

export function isLinkRef(value: unknown): value is LinkRef {
  return typeof value === 'object' && value !== null && 'from' in value && 'slot' in value;
}

/**
 * Every node's consumers, built in one pass: asking each node for its consumers by scanning the graph was quadratic.
 * A consumer appears once per source even when it takes several inputs from it.
 */
export function consumersIndex(graph: Graph): Map<string, GraphNode[]> {
  const index = new Map<string, GraphNode[]>();
  for (const node of graph.nodes.values()) {
    const seen = new Set<string>();
    for (const name in node.inputs) {
      const from = node.inputs[name]!.from;
      if (seen.has(from)) continue;
      seen.add(from);
      let list = index.get(from);
      if (!list) index.set(from, (list = []));
      list.push(node);
    }
  }
  return index;
}
