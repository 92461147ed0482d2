import type { OutputCache } from './cache.js';
import { findCacheHits, missingOutput, nodesToRun, outputNodes } from './cache-plan.js';
import { systemClock, type Clock } from './clock.js';
import type { AnyNodeDefinition, CacheCheckContext, FilesContext, NodeContext, Values } from './define-node.js';
import { CancelledError, NodeExecutionError, RuntimeError, WorkflowValidationError, type Issue } from './errors.js';
import type { RunEvent } from './events.js';
import { checkParams } from './param-issues.js';
import type { Graph } from './graph.js';
import { computeCacheKeys } from './cache-key.js';
import { formatCyclePath, planGraph } from './plan.js';
import type { NodeRegistry } from './registry.js';
import { emptyRecord } from './records.js';

/**
 * Runs a validated graph: cached nodes are reused, the rest start as soon as their
 * inputs are ready (several Runway tasks in flight at once), in plan order, under a
 * concurrency limit. Events follow ComfyUI's websocket sequence (docs/comfyui.md §2).
 */

export interface ExecuteOptions {
  promptId: string;
  /** Nodes running at once (default 8). */
  concurrency?: number;
  /** No cache means every node runs (--no-cache). */
  cache?: OutputCache;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  context: (nodeId: string, signal: AbortSignal) => Omit<NodeContext, 'progress'>;
  files: FilesContext;
  /** Event timestamps (default: the system clock). */
  clock?: Clock;
  /** Output node ids to run (ComfyUI's partial_execution_targets); default: every output node. */
  targets?: string[];
  /** Passed to each definition's isCacheValid. */
  cacheCheck?: CacheCheckContext;
}

export interface ExecuteResult {
  status: 'success' | 'error' | 'interrupted';
  outputs: Record<string, Values>;
  uiOutputs: Record<string, Record<string, unknown>>;
  executed: string[];
  cached: string[];
  error?: RuntimeError;
}

interface Prepared {
  order: string[];
  defs: Map<string, AnyNodeDefinition>;
  params: Map<string, Record<string, unknown>>;
}

interface RunState {
  results: Map<string, Values>;
  uiOutputs: Record<string, Record<string, unknown>>;
  executed: string[];
  /** Running node ids → their types. */
  running: Map<string, string>;
  controller: AbortController;
  failure?: { nodeId: string; error: NodeExecutionError };
  interrupted?: { nodeId: string | null; nodeType: string | null };
}

/**
 * @throws WorkflowValidationError when the graph has unknown types, invalid params or a
 * cycle (callers validate first; this guards against running an unvalidated graph).
 */
export async function executeGraph(graph: Graph, registry: NodeRegistry, options: ExecuteOptions): Promise<ExecuteResult> {
  const clock = options.clock ?? systemClock;
  const emit = (event: RunEvent) => safeEmit(options.onEvent, event);
  const prepared = prepare(graph, registry, relevantNodes(graph, registry, options.targets));
  const { keys, volatile } = await computeCacheKeys(graph, registry, prepared.order, prepared.params, options.files);
  const defOf = (id: string) => prepared.defs.get(id)!;
  const hits = await findCacheHits({ order: prepared.order, defOf, keys, volatile, cache: options.cache, check: options.cacheCheck });
  const targets = (options.targets ?? outputNodes(graph, registry)).filter((id) => prepared.defs.has(id));
  const toRun = nodesToRun(graph, hits, targets);
  const state: RunState = { results: new Map(hits), uiOutputs: emptyRecord(), executed: [], running: new Map(), controller: new AbortController() };
  const base = { prompt_id: options.promptId };

  emit({ type: 'execution_start', data: { ...base, timestamp: clock.now() } });
  const cached = prepared.order.filter((id) => hits.has(id));
  emit({ type: 'execution_cached', data: { ...base, nodes: cached, timestamp: clock.now() } });
  for (const id of cached) reportUiOutput(id, prepared.defs.get(id)!, hits.get(id)!, state, options.promptId, emit);

  const onAbort = () => interrupt(state);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await schedule(graph, prepared, toRun, state, { ...options, clock, emit, keys, volatile });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const result = finish(state, cached, options.promptId, clock, emit);
  emit({ type: 'executing', data: { ...base, node: null } });
  return result;
}

/** A listener that throws must not break the run. */
function safeEmit(listener: ExecuteOptions['onEvent'], event: RunEvent): void {
  try {
    listener?.(event);
  } catch {
    // The run matters more than one listener.
  }
}

/** The targets and everything they depend on; like ComfyUI, nodes no output needs never run. */
function relevantNodes(graph: Graph, registry: NodeRegistry, targets?: string[]): Set<string> {
  const relevant = new Set<string>();
  const queue = [...(targets ?? outputNodes(graph, registry))];
  while (queue.length > 0) {
    const id = queue.shift()!;
    const node = graph.nodes.get(id);
    if (!node || relevant.has(id)) continue;
    relevant.add(id);
    for (const link of Object.values(node.inputs)) queue.push(link.from);
  }
  return relevant;
}

function prepare(graph: Graph, registry: NodeRegistry, relevant: Set<string>): Prepared {
  const plan = planGraph(graph);
  if (plan.cycle) {
    throw new WorkflowValidationError([
      { type: 'dependency_cycle', nodeId: plan.cycle[0], message: 'Dependency cycle', details: formatCyclePath(graph, plan.cycle) },
    ]);
  }
  const issues: Issue[] = [];
  const defs = new Map<string, AnyNodeDefinition>();
  const params = new Map<string, Record<string, unknown>>();
  for (const id of plan.order.filter((nodeId) => relevant.has(nodeId))) {
    const node = graph.nodes.get(id)!;
    const def = registry.get(node.type);
    if (!def) {
      issues.push({ type: 'missing_node_type', nodeId: id, nodeType: node.type, message: 'Node type does not exist', details: `"${node.type}"` });
      continue;
    }
    const check = checkParams(node, def);
    issues.push(...check.issues);
    defs.set(id, def);
    if (check.params) params.set(id, check.params);
  }
  if (issues.length > 0) throw new WorkflowValidationError(issues);
  return { order: plan.order.filter((id) => relevant.has(id)), defs, params };
}

type Emit = (event: RunEvent) => void;
type RunOptions = ExecuteOptions & { clock: Clock; emit: Emit; keys: Map<string, string>; volatile: Set<string> };

/** Starts ready nodes in plan order up to the limit; returns when nothing runs and nothing can start. */
async function schedule(graph: Graph, prepared: Prepared, toRun: Set<string>, state: RunState, options: RunOptions): Promise<void> {
  const limit = Math.max(1, options.concurrency ?? 8);
  const pending = prepared.order.filter((id) => toRun.has(id));
  const running = new Map<string, Promise<void>>();
  const isReady = (id: string) => Object.values(graph.nodes.get(id)!.inputs).every((link) => state.results.has(link.from));
  for (;;) {
    while (!state.controller.signal.aborted && running.size < limit) {
      const next = pending.find(isReady);
      if (next === undefined) break;
      pending.splice(pending.indexOf(next), 1);
      state.running.set(next, graph.nodes.get(next)!.type);
      const done = runNode(graph, prepared, next, state, options).finally(() => {
        running.delete(next);
        state.running.delete(next);
      });
      running.set(next, done);
    }
    if (running.size === 0) return;
    await Promise.race(running.values());
  }
}

/** Runs one node; never rejects: a failure is recorded and stops the run. */
async function runNode(graph: Graph, prepared: Prepared, id: string, state: RunState, options: RunOptions): Promise<void> {
  const node = graph.nodes.get(id)!;
  const def = prepared.defs.get(id)!;
  const { clock, emit, promptId } = options;
  emit({ type: 'executing', data: { prompt_id: promptId, node: id, display_node: id } });
  emitNodeState(emit, promptId, id, 'running');
  const startedAt = clock.now();
  try {
    const base = options.context(id, state.controller.signal);
    const ctx: NodeContext = {
      ...base,
      progress: (p) => emit({ type: 'progress', data: { prompt_id: promptId, node: id, ...p, elapsed_ms: clock.now() - startedAt } }),
    };
    const inputs: Values = emptyRecord();
    for (const [name, link] of Object.entries(node.inputs)) {
      const source = prepared.defs.get(link.from)!;
      inputs[name] = state.results.get(link.from)![source.outputs[link.slot]!.name];
    }
    const outputs = await def.run(inputs, prepared.params.get(id)!, ctx);
    const missing = missingOutput(def, outputs);
    if (missing !== undefined) throw new RuntimeError(`run() returned no value for output "${missing}".`);
    state.results.set(id, outputs);
    state.executed.push(id);
    // Stored at once, even after an interrupt: a finished paid generation is never lost.
    if (options.cache && def.cacheable !== false && !options.volatile.has(id)) {
      await options.cache.set(options.keys.get(id)!, outputs).catch((error: unknown) => {
        base.log.warn(`Node "${id}" (${node.type}): could not write the output cache: ${String(error)}`);
      });
    }
    emitNodeState(emit, promptId, id, 'finished');
    reportUiOutput(id, def, outputs, state, promptId, emit);
  } catch (error) {
    emitNodeState(emit, promptId, id, 'error');
    recordFailure(state, id, node.type, error);
  }
}

/** ComfyUI's progress_state for the one node whose state changed: clients merge it into their view. */
function emitNodeState(emit: Emit, promptId: string, id: string, nodeState: 'running' | 'finished' | 'error'): void {
  const value = nodeState === 'running' ? 0 : 1;
  emit({ type: 'progress_state', data: { prompt_id: promptId, nodes: { [id]: { node_id: id, state: nodeState, value, max: 1 } } } });
}

function reportUiOutput(id: string, def: AnyNodeDefinition, outputs: Values, state: RunState, promptId: string, emit: Emit): void {
  if (!def.uiOutput) return;
  const output = def.uiOutput(outputs);
  state.uiOutputs[id] = output;
  emit({ type: 'executed', data: { prompt_id: promptId, node: id, display_node: id, output } });
}

/** The first real failure stops the run; errors caused by stopping it are not failures. */
function recordFailure(state: RunState, id: string, type: string, error: unknown): void {
  if (state.failure || state.interrupted) return;
  const wrapped = error instanceof NodeExecutionError ? error : new NodeExecutionError(id, type, error);
  state.failure = { nodeId: id, error: wrapped };
  state.controller.abort(new CancelledError(`Stopped because node "${id}" (${type}) failed.`));
}

function interrupt(state: RunState): void {
  if (state.failure || state.interrupted) return;
  const [current] = state.running;
  state.interrupted = { nodeId: current?.[0] ?? null, nodeType: current?.[1] ?? null };
  state.controller.abort(new CancelledError());
}

function finish(state: RunState, cached: string[], promptId: string, clock: Clock, emit: Emit): ExecuteResult {
  const result: Omit<ExecuteResult, 'status'> = {
    outputs: Object.fromEntries(state.results),
    uiOutputs: state.uiOutputs,
    executed: state.executed,
    cached,
  };
  const base = { prompt_id: promptId, executed: state.executed, timestamp: clock.now() };
  if (state.failure) {
    const { nodeId, error } = state.failure;
    const cause = error.cause instanceof Error ? error.cause : error;
    emit({
      type: 'execution_error',
      data: { ...base, node_id: nodeId, node_type: error.nodeType, exception_message: error.message, exception_type: cause.name, traceback: (cause.stack ?? '').split('\n') },
    });
    return { status: 'error', ...result, error };
  }
  if (state.interrupted) {
    const { nodeId, nodeType } = state.interrupted;
    emit({ type: 'execution_interrupted', data: { ...base, node_id: nodeId, node_type: nodeType } });
    return { status: 'interrupted', ...result, error: new CancelledError() };
  }
  emit({ type: 'execution_success', data: { prompt_id: promptId, timestamp: clock.now() } });
  return { status: 'success', ...result };
}
