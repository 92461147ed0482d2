import type { AnyNodeDefinition, FilesContext, UpstreamNode, ValidationContext } from './define-node.js';
import { messageOf, type Issue } from './errors.js';
import { checkParams } from './param-issues.js';
import type { Graph, GraphNode } from './graph.js';
import { consumerIndex, hasCycle } from './graph-queries.js';
import { findCycle, formatCyclePath } from './plan.js';
import type { NodeRegistry } from './registry.js';
import { emptyRecord } from './records.js';

/**
 * One pass that reports every problem at once, before anything is spent: unknown
 * types, missing or mismatched links, bad widget values, cycles, no outputs, and each
 * definition's own checks. The result also comes in ComfyUI's HTTP 400 shape.
 */

export interface ComfyError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface ComfyValidation {
  error: ComfyError;
  node_errors: Record<string, { class_type: string; errors: ComfyError[]; dependent_outputs: string[] }>;
}

export interface ValidationResult {
  ok: boolean;
  issues: Issue[];
  comfy: ComfyValidation | null;
  /** Each node's params as checked, for the executor to use as they are (parsed once per run). */
  params?: ReadonlyMap<string, Record<string, unknown>>;
}

export interface ValidateOptions {
  files: FilesContext;
  env: NodeJS.ProcessEnv;
}

/** Nodes checked between two yields to the event loop: a server validating a big prompt keeps answering. */
const CHUNK = 500;

export async function validateGraph(graph: Graph, registry: NodeRegistry, options: ValidateOptions): Promise<ValidationResult> {
  // Pushed one by one: `issues.push(...many)` overflows the call stack on a big file.
  const issues: Issue[] = unknownTypeIssues(graph, registry);
  const add = (found: Issue[]) => {
    for (const issue of found) issues.push(issue);
  };
  const parsed = new Map<string, Record<string, unknown>>();
  let checked = 0;
  for (const node of graph.nodes.values()) {
    if (++checked % CHUNK === 0) await yieldToEventLoop();
    const def = registry.get(node.type);
    if (!def) continue;
    add(versionIssues(node, def));
    add(linkIssues(node, def, graph, registry));
    const check = checkParams(node, def);
    add(check.issues);
    if (check.params) parsed.set(node.id, check.params);
  }
  const index = consumerIndex(graph);
  const consumers = (id: string) => index.get(id) ?? [];
  add(cycleIssues(graph));
  add(outputIssues(graph, registry));
  add(await customIssues(graph, registry, parsed, consumers, options));
  for (const issue of issues) {
    const where = issue.nodeId !== undefined ? graph.nodes.get(issue.nodeId)?.where : undefined;
    if (where !== undefined) issue.where = where;
  }
  if (issues.length > 0) await yieldToEventLoop();
  return { ok: issues.length === 0, issues, comfy: toComfy(issues, graph, registry, consumers), params: parsed };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Subgraph instances use their definition's uuid as the node type. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function unknownTypeIssues(graph: Graph, registry: NodeRegistry): Issue[] {
  const unknown: GraphNode[] = [];
  for (const node of graph.nodes.values()) if (!registry.get(node.type)) unknown.push(node);
  if (unknown.length === 0) return [];
  const types = [...new Set(unknown.map((node) => node.type))];
  const known = registry.list().map((def) => def.type).join(', ');
  const prompt: Issue = {
    type: 'invalid_prompt',
    message: `Unknown node type${types.length > 1 ? 's' : ''}`,
    details: `${types.map((t) => `"${t}"`).join(', ')} (known types: ${known})`,
    extra_info: { missing_node_types: types },
  };
  const perNode = unknown.map(
    (node): Issue => ({
      type: 'missing_node_type',
      nodeId: node.id,
      nodeType: node.type,
      message: 'Node type does not exist',
      details: UUID.test(node.type)
        ? `"${node.type}" is a subgraph instance; subgraphs are not supported yet, so convert it back to nodes`
        : `"${node.type}" is not a node type this runtime knows`,
      extra_info: { class_type: node.type },
    }),
  );
  perNode.unshift(prompt);
  return perNode;
}

function versionIssues(node: GraphNode, def: AnyNodeDefinition): Issue[] {
  if (node.version === undefined || node.version <= def.version) return NONE;
  return [
    {
      type: 'unsupported_node_version',
      nodeId: node.id,
      nodeType: node.type,
      message: 'Node version is newer than this runtime supports',
      details: `the workflow was saved with version ${node.version}, this runtime has version ${def.version}`,
      extra_info: { version: node.version, supported: def.version },
    },
  ];
}

/** Missing required sockets, links to nothing, and links whose types do not match. */
function linkIssues(node: GraphNode, def: AnyNodeDefinition, graph: Graph, registry: NodeRegistry): Issue[] {
  // Most nodes have no link problem: no array is made for them.
  let issues = NONE;
  const report = (field: string, type: string, message: string, details: string): void => {
    if (issues === NONE) issues = [];
    issues.push({ type, nodeId: node.id, nodeType: node.type, field, message, details, extra_info: { input_name: field } });
  };
  for (const name in def.inputs) {
    const socket = def.inputs[name]!;
    const link = node.inputs[name];
    if (!link) {
      if (!socket.optional) report(name, 'required_input_missing', 'Required input is missing', `${name} (${socket.type}) is not connected`);
      continue;
    }
    const source = graph.nodes.get(link.from);
    if (!source) {
      report(name, 'dangling_link', 'Linked node does not exist', `${name} is linked to node "${link.from}", which is not in the workflow`);
      continue;
    }
    const sourceDef = registry.get(source.type);
    if (!sourceDef) continue; // Already reported as an unknown type.
    const output = sourceDef.outputs[link.slot];
    if (!output) {
      const details = `${name} is linked to output ${link.slot} of node "${source.id}" (${source.type}), which has ${sourceDef.outputs.length} output(s)`;
      report(name, 'dangling_link', 'Linked output does not exist', details);
    } else if (output.type !== socket.type) {
      const details = `${name} expects ${socket.type} but node "${source.id}" (${source.type}) output ${output.name} gives ${output.type}`;
      report(name, 'return_type_mismatch', 'Return type mismatch between linked nodes', details);
    }
  }
  return issues;
}

function cycleIssues(graph: Graph): Issue[] {
  // The linear test first: the path search sorts ids and copies each node's sources, worth it only for a cycle.
  const cycle = hasCycle(graph) ? findCycle(graph) : undefined;
  if (!cycle) return [];
  const first = graph.nodes.get(cycle[0]!)!;
  return [
    {
      type: 'dependency_cycle',
      nodeId: first.id,
      nodeType: first.type,
      message: 'Dependency cycle',
      details: formatCyclePath(graph, cycle),
      extra_info: { cycle },
    },
  ];
}

function outputIssues(graph: Graph, registry: NodeRegistry): Issue[] {
  for (const node of graph.nodes.values()) if (registry.get(node.type)?.outputNode) return [];
  const outputTypes = registry.list().filter((def) => def.outputNode).map((def) => def.type);
  return [
    {
      type: 'prompt_no_outputs',
      message: 'Prompt has no outputs',
      details: `the workflow needs at least one output node${outputTypes.length > 0 ? ` (${outputTypes.join(', ')})` : ''}`,
      extra_info: {},
    },
  ];
}

/** Each definition's validate(), for nodes whose params parsed, a chunk at a time; a throw becomes an issue. */
async function customIssues(
  graph: Graph,
  registry: NodeRegistry,
  parsed: Map<string, Record<string, unknown>>,
  consumers: (id: string) => GraphNode[],
  options: ValidateOptions,
): Promise<Issue[]> {
  // One map per run: a file that changes between two runs is read again.
  const memo = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    let found = memo.get(key) as Promise<T> | undefined;
    if (!found) memo.set(key, (found = compute()));
    return found;
  };
  const run: RunState = { graph, parsed, paramsOf: (id) => parsed.get(id), consumers, options, shared };
  const threw = (node: GraphNode, error: unknown): Issue[] => [
    { type: 'exception_during_validation', nodeId: node.id, nodeType: node.type, message: 'Validation failed', details: `validate() threw: ${messageOf(error)}` },
  ];
  const stamped = (node: GraphNode, found: Issue[]): Issue[] =>
    found.length === 0 ? found : found.map((issue) => ({ ...issue, nodeId: issue.nodeId ?? node.id, nodeType: issue.nodeType ?? node.type }));
  // Not an async function: a validate() that answers at once is not awaited (100k awaits cost more than the checks).
  const check = (node: GraphNode): Issue[] | Promise<Issue[]> => {
    const def = registry.get(node.type);
    const params = parsed.get(node.id);
    if (!def?.validate || !params) return NONE;
    try {
      const found = def.validate(params, new NodeValidationContext(node, run));
      if (Array.isArray(found)) return stamped(node, found);
      return Promise.resolve(found).then((issues) => stamped(node, issues), (error: unknown) => threw(node, error));
    } catch (error) {
      return threw(node, error);
    }
  };
  // validate() may open files (image headers): a few at a time, so 1,500 LoadImages never run out of file descriptors (EMFILE).
  const nodes = [...graph.nodes.values()];
  const results: Issue[][] = new Array(nodes.length);
  let next = 0;
  // Shared results resolve without I/O, so the loop also yields now and then to keep a server answering.
  const worker = async () => {
    for (let i = next++; i < nodes.length; i = next++) {
      if (i % CHUNK === 0) await yieldToEventLoop();
      const found = check(nodes[i]!);
      results[i] = Array.isArray(found) ? found : await found;
    }
  };
  await Promise.all(Array.from({ length: Math.min(VALIDATE_CONCURRENCY, nodes.length) }, worker));
  const issues: Issue[] = [];
  for (const found of results) for (const issue of found) issues.push(issue);
  return issues;
}

/** How many node validations run at once. */
export const VALIDATE_CONCURRENCY = 16;

/** No issues: shared, never pushed to. */
const NONE: Issue[] = [];

/** What every node's validation context of one run reads. */
interface RunState {
  graph: Graph;
  parsed: Map<string, Record<string, unknown>>;
  paramsOf: ParamsOf;
  consumers: (id: string) => GraphNode[];
  options: ValidateOptions;
  shared: NonNullable<ValidationContext['shared']>;
}

/** The node linked to `input` of `node`, if any. */
function sourceOf(graph: Graph, node: GraphNode, input: string): GraphNode | undefined {
  const link = node.inputs[input];
  return link ? graph.nodes.get(link.from) : undefined;
}

/** A node's type and params (parsed when they parsed) as another node's validate() sees it. */
function viewOf(run: RunState, other: GraphNode) {
  return { type: other.type, params: run.parsed.get(other.id) ?? other.params };
}

type ParamsOf = (id: string) => Record<string, unknown> | undefined;

/**
 * A node feeding an input. Upstream views chain, so RunwayI2V can see a LoadImage through a pass-through
 * ValidateImage. `upstream` lives on the prototype, not enumerable: the view stays plain data when printed or
 * compared. A class, not an object of closures: one per node of a 100k-node file.
 */
class UpstreamView implements UpstreamNode {
  readonly type: string;
  readonly params: Record<string, unknown>;
  readonly #graph: Graph;
  readonly #paramsOf: ParamsOf;
  readonly #node: GraphNode;
  constructor(graph: Graph, paramsOf: ParamsOf, node: GraphNode) {
    this.type = node.type;
    this.params = paramsOf(node.id) ?? node.params;
    this.#graph = graph;
    this.#paramsOf = paramsOf;
    this.#node = node;
  }
  upstream(input: string): UpstreamNode | undefined {
    return upstreamOf(this.#graph, this.#node, this.#paramsOf)(input);
  }
}

/** What feeds `node`'s inputs, as views of type and params; `paramsOf` gives checked params (the raw ones when it has none). */
export function upstreamOf(graph: Graph, node: GraphNode, paramsOf: ParamsOf): (input: string) => UpstreamNode | undefined {
  return (input) => {
    const source = sourceOf(graph, node, input);
    return source ? new UpstreamView(graph, paramsOf, source) : undefined;
  };
}

class NodeValidationContext implements ValidationContext {
  readonly nodeId: string;
  readonly files: FilesContext;
  readonly env: NodeJS.ProcessEnv;
  readonly shared: NonNullable<ValidationContext['shared']>;
  readonly #run: RunState;
  readonly #node: GraphNode;
  constructor(node: GraphNode, run: RunState) {
    this.nodeId = node.id;
    this.files = run.options.files;
    this.env = run.options.env;
    this.shared = run.shared;
    this.#run = run;
    this.#node = node;
  }
  upstream(input: string): UpstreamNode | undefined {
    return upstreamOf(this.#run.graph, this.#node, this.#run.paramsOf)(input);
  }
  downstream(): { type: string; params: Record<string, unknown> }[] {
    return this.#run.consumers(this.#node.id).map((other) => viewOf(this.#run, other));
  }
}

/**
 * How many nodes the dependent_outputs walks may visit in all. Each walk is linear, but one per failing node
 * is quadratic on a huge file where every node fails; past this budget the remaining lists are left empty
 * (the issues themselves are all reported).
 */
const DEPENDENT_WALK_BUDGET = 2_000_000;

/** Output nodes that depend on `id` (itself included), as ComfyUI's dependent_outputs; spends from `budget`. */
function dependentOutputs(graph: Graph, registry: NodeRegistry, id: string, consumers: (id: string) => GraphNode[], budget: { left: number }): string[] {
  const seen = new Set<string>([id]);
  const queue = [id];
  for (let head = 0; head < queue.length; head++) {
    if (--budget.left < 0) return [];
    for (const consumer of consumers(queue[head]!)) {
      if (seen.has(consumer.id)) continue;
      seen.add(consumer.id);
      queue.push(consumer.id);
    }
  }
  return [...seen].filter((nodeId) => registry.get(graph.nodes.get(nodeId)?.type ?? '')?.outputNode);
}

function toComfy(issues: Issue[], graph: Graph, registry: NodeRegistry, consumers: (id: string) => GraphNode[]): ComfyValidation | null {
  if (issues.length === 0) return null;
  const plain = (issue: Issue): ComfyError => ({
    type: issue.type, message: issue.message, details: issue.details, extra_info: issue.extra_info ?? {},
  });
  const nodeErrors: ComfyValidation['node_errors'] = emptyRecord();
  const budget = { left: DEPENDENT_WALK_BUDGET };
  for (const issue of issues) {
    if (issue.nodeId === undefined) continue;
    const entry = (nodeErrors[issue.nodeId] ??= {
      class_type: issue.nodeType ?? graph.nodes.get(issue.nodeId)?.type ?? 'unknown',
      errors: [],
      dependent_outputs: dependentOutputs(graph, registry, issue.nodeId, consumers, budget),
    });
    entry.errors.push(plain(issue));
  }
  const promptLevel = issues.find((issue) => issue.nodeId === undefined);
  const first = issues[0]!;
  const error: ComfyError = promptLevel
    ? plain(promptLevel)
    : { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: `${first.field ?? ''}${first.field ? ': ' : ''}${first.details}`, extra_info: {} };
  return { error, node_errors: nodeErrors };
}

