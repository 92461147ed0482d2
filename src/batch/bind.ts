import { toApiPrompt, updateUiWorkflowParams, type ParsedWorkflow } from '../comfy/index.js';
import { InputError } from '../engine/errors.js';
import type { GraphNode } from '../engine/graph.js';
import { paramSpecs, type ParamSpec } from '../engine/params.js';
import type { NodeRegistry } from '../engine/registry.js';
import type { BatchRow } from './rows.js';

/**
 * One row applied to the workflow: the `image` column binds the LoadImage, `3.seed` or
 * `Prompt.promptText` sets a widget (by node id, or by title), and every SaveVideo gets the row id
 * in its file name so rows never overwrite each other.
 */

/** Where one column goes. */
export interface ColumnTarget {
  nodeId: string;
  param: string;
  spec: ParamSpec;
}

const ROW_NAME_LIMIT = 80;

/** Resolves every column used by any row once, before anything runs: a typo is exit 2, not N failed rows. */
export function resolveColumns(parsed: ParsedWorkflow, registry: NodeRegistry, rows: BatchRow[]): Map<string, ColumnTarget> {
  const columns = new Set(rows.flatMap((row) => Object.keys(row.values)));
  const targets = new Map<string, ColumnTarget>();
  for (const column of columns) targets.set(column, resolveColumn(parsed, registry, column));
  return targets;
}

function resolveColumn(parsed: ParsedWorkflow, registry: NodeRegistry, column: string): ColumnTarget {
  const nodes = [...parsed.graph.nodes.values()];
  if (column === 'image') {
    const loaders = nodes.filter((node) => node.type === 'LoadImage');
    if (loaders.length !== 1) {
      throw new InputError(`column "image" needs exactly one LoadImage in the workflow, found ${loaders.length}; name it as "<node id>.image" instead`);
    }
    return target(registry, loaders[0]!, 'image', column);
  }
  const dot = column.lastIndexOf('.');
  if (dot <= 0) throw new InputError(`column "${column}" must be "image", "id", or "<node id or title>.<param>" such as "3.seed"`);
  const ref = column.slice(0, dot);
  const param = column.slice(dot + 1);
  const byId = parsed.graph.nodes.get(ref);
  const byTitle = nodes.filter((node) => node.title === ref);
  if (!byId && byTitle.length > 1) throw new InputError(`column "${column}": ${byTitle.length} nodes are titled "${ref}"; use the node id`);
  const node = byId ?? byTitle[0];
  if (!node) throw new InputError(`column "${column}": the workflow has no node with id or title "${ref}"`);
  return target(registry, node, param, column);
}

function target(registry: NodeRegistry, node: GraphNode, param: string, column: string): ColumnTarget {
  const def = registry.get(node.type);
  const spec = def ? paramSpecs(def).find((candidate) => candidate.name === param) : undefined;
  if (!spec) throw new InputError(`column "${column}": node ${node.id} (${node.type}) has no widget "${param}"`);
  return { nodeId: node.id, param, spec };
}

/** The workflow for one row; validation of the values themselves is the run's (exit 2 names node, field and limit). */
export function bindRow(parsed: ParsedWorkflow, registry: NodeRegistry, row: BatchRow, targets: Map<string, ColumnTarget>): ParsedWorkflow {
  const graph = { nodes: new Map([...parsed.graph.nodes].map(([id, node]) => [id, { ...node, params: { ...node.params } }])) };
  for (const [column, value] of Object.entries(row.values)) {
    const goal = targets.get(column)!;
    graph.nodes.get(goal.nodeId)!.params[goal.param] = coerce(value, goal.spec, column);
  }
  const suffix = rowFileName(row.id);
  for (const node of graph.nodes.values()) {
    if (node.type !== 'SaveVideo') continue;
    const prefix = typeof node.params.filename_prefix === 'string' ? node.params.filename_prefix : 'reelgraph/video';
    node.params.filename_prefix = `${prefix}_${suffix}`;
  }
  return { ...parsed, graph, api: toApiPrompt(graph), ui: parsed.ui ? updateUiWorkflowParams(parsed.ui, graph, registry) : undefined };
}

/** CSV gives strings; a number or boolean widget takes them as the user wrote them. */
function coerce(value: string | number | boolean, spec: ParamSpec, column: string): unknown {
  if (typeof value !== 'string') return value;
  if (spec.kind === 'INT' || spec.kind === 'FLOAT') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`column "${column}": "${value}" is not a number`);
    return n;
  }
  if (spec.kind === 'BOOLEAN') {
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    throw new InputError(`column "${column}": "${value}" is not true or false`);
  }
  if (spec.kind === 'COMBO' && spec.options?.some((option) => typeof option === 'number')) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}

/** The row id as a safe file-name part (the counter in SaveVideo keeps two similar ids apart). */
export function rowFileName(id: string): string {
  return id.replace(/\.[a-z0-9]+$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, ROW_NAME_LIMIT) || 'row';
}
