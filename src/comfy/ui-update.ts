import type { Graph } from '../engine/graph.js';
import type { NodeRegistry } from '../engine/registry.js';
import { paramsToWidgets } from './widgets.js';

/**
 * A UI workflow with its widget values replaced by the graph's params; everything else
 * (unknown keys at every level, layout, groups, control values) is kept as it was.
 */
export function updateUiWorkflowParams(ui: Record<string, unknown>, graph: Graph, registry: NodeRegistry): Record<string, unknown> {
  const copy = structuredClone(ui);
  const nodes = Array.isArray(copy.nodes) ? (copy.nodes as unknown[]) : [];
  for (const raw of nodes) {
    if (typeof raw !== 'object' || raw === null) continue;
    const uiNode = raw as Record<string, unknown>;
    const node = graph.nodes.get(String(uiNode.id));
    const def = node ? registry.get(node.type) : undefined;
    if (!node || !def || node.type !== uiNode.type) continue;
    const previous = uiNode.widgets_values;
    if (Array.isArray(previous)) uiNode.widgets_values = paramsToWidgets(def, node.params, previous);
    else if (typeof previous === 'object' && previous !== null) uiNode.widgets_values = { ...previous, ...node.params };
    else if (Object.keys(node.params).length > 0) uiNode.widgets_values = paramsToWidgets(def, node.params);
  }
  return copy;
}
