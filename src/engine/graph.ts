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
  /** How messages name the node when its id alone does not say where it is: `subgraph "Animate" › node 7`. */
  where?: string;
  /** Raw positional widgets_values of a node whose type is unknown, kept for messages and re-save. */
  rawWidgets?: unknown[];
}

export interface Graph {
  /** In file order. */
  nodes: Map<string, GraphNode>;
}
