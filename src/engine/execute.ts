import type { OutputCache } from './cache.js';
import { findCacheHits, missingOutput, nodesToRun, outputNodes } from './cache-plan.js';
import { systemClock, type Clock } from './clock.js';
import type { AnyNodeDefinition, CacheCheckContext, FilesContext, NodeContext, NodeContextBase, Values } from './define-node.js';
import { CancelledError, NodeExecutionError, RuntimeError, WorkflowValidationError, nodeLabel, type Issue } from './errors.js';
import type { RunEvent } from './events.js';
import { checkParams } from './param-issues.js';
import type { Graph } from './graph.js';
import { computeCacheKeys } from './cache-key.js';
import { formatCyclePath, planGraph } from './plan.js';
import type { NodeRegistry } from './registry.js';
import { MinHeap } from './min-heap.js';
import { Slots } from './slots.js';
import { emptyRecord } from './records.js';

/**
 * Runs a validated graph: cached nodes are reused, the rest start as soon as their inputs are ready
 * (several Runway tasks in flight at once), in plan order, under a concurrency limit. Scheduling is linear:
 * each node counts the inputs it still waits for, and a ready queue (a heap on plan order) hands out slots.
 * A failing node stops only what depends on it; only the user's interrupt aborts running nodes.
 * Events follow ComfyUI's websocket sequence (docs/comfyui.md §2).
 */

export interface ExecuteOptions {
  promptId: string;
  /** Nodes working at once (default 8); a node waiting on a remote job gives its slot back (releaseSlotWhile). */
  concurrency?: number;
  /** No cache means every node runs (--no-cache). */
  cache?: OutputCache;
  /** The user's stop (Ctrl-C, /interrupt): aborts the running nodes' signals. */
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  context: (nodeId: string, signal: AbortSignal) => NodeContextBase;
  files: FilesContext;
  /** Event timestamps (default: the system clock). */
  clock?: Clock;
  /** Passed to each definition's isCacheValid. */
  cacheCheck?: CacheCheckContext;
  /**
   * Start nothing new after the first failure (--fail-fast). Running nodes still finish: a failure never
   * aborts another node, so a paid task is never cancelled because something else went wrong.
   */
  failFast?: boolean;
}

/** One node that failed, with the error that says why in one sentence. */
export interface NodeFailure {
  nodeId: string;
  nodeType: string;
  error: NodeExecutionError;
}

export interface ExecuteResult {
  status: 'success' | 'error' | 'interrupted';
  outputs: Record<string, Values>;
  uiOutputs: Record<string, Record<string, unknown>>;
  executed: string[];
  cached: string[];
  /** Every node that failed, in the order they failed. */
  failures: NodeFailure[];
  /** Nodes that did not run because something they need failed, --fail-fast stopped the run, or the user did. */
  skipped: string[];
  /** The first failure, or the interrupt. */
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
  /** Aborted only by the user's interrupt. */
  controller: AbortController;
  failures: NodeFailure[];
  interrupted?: { nodeId: string | null; nodeType: string | null };
}

/**
 * @throws WorkflowValidationError when the graph has unknown types, invalid params or a
 * cycle (callers validate first; this guards against running an unvalidated graph).
 */
export async function executeGraph(graph: Graph, registry: NodeRegistry, options: ExecuteOptions): Promise<ExecuteResult> {
  const clock = options.clock ?? systemClock;
  // Without a listener no event is built at all.
  const emit: Emit = options.onEvent ? (event) => safeEmit(options.onEvent, event) : noEmit;
  // Like ComfyUI, nodes no output needs never run.
  const targets = outputNodes(graph, registry);
  const prepared = prepare(graph, registry, nodesToRun(graph, new Map(), targets));
  // Keys (and the fingerprints they hash) only matter to a cache: without one (--no-cache) they are not computed.
  const { keys, volatile } = options.cache
    ? await computeCacheKeys(graph, registry, prepared.order, prepared.params, options.files)
    : { keys: new Map<string, string>(), volatile: new Set<string>() };
  const defOf = (id: string) => prepared.defs.get(id)!;
  const hits = await findCacheHits({ order: prepared.order, defOf, keys, volatile, cache: options.cache, check: options.cacheCheck });
  const toRun = nodesToRun(graph, hits, targets);
  const state: RunState = { results: new Map(hits), uiOutputs: emptyRecord(), executed: [], running: new Map(), controller: new AbortController(), failures: [] };
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
  const failed = new Set(state.failures.map((failure) => failure.nodeId));
  const skipped = prepared.order.filter((id) => toRun.has(id) && !state.results.has(id) && !failed.has(id));
  const result = finish(state, cached, skipped, options.promptId, clock, emit);
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
  const order = plan.order.filter((id) => relevant.has(id));
  for (const id of order) {
    const node = graph.nodes.get(id)!;
    const def = registry.get(node.type);
    if (!def) {
      issues.push({ type: 'missing_node_type', nodeId: id, nodeType: node.type, message: 'Node type does not exist', details: `"${node.type}"` });
      continue;
    }
    const check = checkParams(node, def);
    for (const issue of check.issues) issues.push(issue);
    defs.set(id, def);
    if (check.params) params.set(id, check.params);
  }
  if (issues.length > 0) throw new WorkflowValidationError(issues);
  return { order, defs, params };
}

type Emit = (event: RunEvent) => void;
const noEmit: Emit = () => {};
type RunOptions = ExecuteOptions & { clock: Clock; emit: Emit; keys: Map<string, string>; volatile: Set<string> };

/**
 * Starts ready nodes in plan order while a slot is free; resolves when nothing runs and nothing more may start.
 * Each node counts the sources it still waits for; a finished node counts its dependents down and the ones that
 * reach zero join the ready heap. A failed node's dependents never reach zero, so only they are skipped.
 */
function schedule(graph: Graph, prepared: Prepared, toRun: Set<string>, state: RunState, options: RunOptions): Promise<void> {
  const { order } = prepared;
  const indexOf = new Map(order.map((id, index) => [id, index]));
  const waiting = new Int32Array(order.length);
  const dependents: number[][] = order.map(() => []);
  const ready = new MinHeap();
  for (const [index, id] of order.entries()) {
    if (!toRun.has(id)) continue;
    const sources = new Set(Object.values(graph.nodes.get(id)!.inputs).map((link) => link.from));
    for (const source of sources) {
      // Cached sources are already in the results.
      if (!toRun.has(source)) continue;
      waiting[index]!++;
      dependents[indexOf.get(source)!]!.push(index);
    }
    if (waiting[index] === 0) ready.push(index);
  }
  let stopped = false;
  let active = 0;
  return new Promise<void>((resolve) => {
    const pump = (): void => {
      stopped ||= state.interrupted !== undefined || (options.failFast === true && state.failures.length > 0);
      while (!stopped && ready.size > 0 && slots.tryTake()) {
        const id = order[ready.pop()!]!;
        active++;
        state.running.set(id, graph.nodes.get(id)!.type);
        void runNode(graph, prepared, id, state, options, slots).then((succeeded) => {
          state.running.delete(id);
          active--;
          if (succeeded) for (const dependent of dependents[indexOf.get(id)!]!) if (--waiting[dependent]! === 0) ready.push(dependent);
          slots.give();
          pump();
        });
      }
      if (active === 0) resolve();
    };
    const slots = new Slots(options.concurrency ?? 8, pump);
    pump();
  });
}

/** Runs one node holding a slot (it gives the slot back itself when it ends); never rejects. True when it succeeded. */
async function runNode(graph: Graph, prepared: Prepared, id: string, state: RunState, options: RunOptions, slots: Slots): Promise<boolean> {
  const node = graph.nodes.get(id)!;
  const def = prepared.defs.get(id)!;
  const { clock, emit, promptId } = options;
  if (emit !== noEmit) emit({ type: 'executing', data: { prompt_id: promptId, node: id, display_node: id } });
  emitNodeState(emit, promptId, id, 'running');
  const startedAt = clock.now();
  let released = false;
  try {
    const base = options.context(id, state.controller.signal);
    const ctx: NodeContext = {
      ...base,
      progress: (p) => emit({ type: 'progress', data: { prompt_id: promptId, node: id, ...p, elapsed_ms: clock.now() - startedAt } }),
      async releaseSlotWhile(wait) {
        if (released) return wait();
        released = true;
        slots.give();
        try {
          return await wait();
        } finally {
          await slots.take();
          released = false;
        }
      },
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
    // Stored at once, even after an interrupt: a finished paid generation is never lost (and made
    // durable: a node that plans paid jobs). Other nodes' entries are cheap to lose, so no fsync.
    if (options.cache && def.cacheable !== false && !options.volatile.has(id)) {
      await options.cache.set(options.keys.get(id)!, outputs, { durable: def.plannedJobs !== undefined }).catch((error: unknown) => {
        base.log.warn(`${nodeLabel(id, node.type, node.where)}: could not write the output cache: ${String(error)}`);
      });
    }
    emitNodeState(emit, promptId, id, 'finished');
    reportUiOutput(id, def, outputs, state, promptId, emit);
    return true;
  } catch (error) {
    emitNodeState(emit, promptId, id, 'error');
    recordFailure(state, id, node.type, error, node.where);
    return false;
  }
}

/** ComfyUI's progress_state for the one node whose state changed: clients merge it into their view. */
function emitNodeState(emit: Emit, promptId: string, id: string, nodeState: 'running' | 'finished' | 'error'): void {
  if (emit === noEmit) return;
  const value = nodeState === 'running' ? 0 : 1;
  emit({ type: 'progress_state', data: { prompt_id: promptId, nodes: { [id]: { node_id: id, state: nodeState, value, max: 1 } } } });
}

function reportUiOutput(id: string, def: AnyNodeDefinition, outputs: Values, state: RunState, promptId: string, emit: Emit): void {
  if (!def.uiOutput) return;
  const output = def.uiOutput(outputs);
  state.uiOutputs[id] = output;
  emit({ type: 'executed', data: { prompt_id: promptId, node: id, display_node: id, output } });
}

/** Every real failure is kept; errors caused by the user's stop are not failures. */
function recordFailure(state: RunState, id: string, type: string, error: unknown, where?: string): void {
  if (state.interrupted) return;
  const wrapped = error instanceof NodeExecutionError ? error : new NodeExecutionError(id, type, error, where);
  state.failures.push({ nodeId: id, nodeType: type, error: wrapped });
}

function interrupt(state: RunState): void {
  if (state.interrupted) return;
  const [current] = state.running;
  state.interrupted = { nodeId: current?.[0] ?? null, nodeType: current?.[1] ?? null };
  state.controller.abort(new CancelledError());
}

/** One execution_error per failed node (ComfyUI sends one; clients that stop at the first still see a failure). */
function finish(state: RunState, cached: string[], skipped: string[], promptId: string, clock: Clock, emit: Emit): ExecuteResult {
  const result: Omit<ExecuteResult, 'status'> = {
    outputs: Object.fromEntries(state.results),
    uiOutputs: state.uiOutputs,
    executed: state.executed,
    cached,
    failures: state.failures,
    skipped,
  };
  const base = { prompt_id: promptId, executed: state.executed, timestamp: clock.now() };
  for (const { nodeId, nodeType, error } of state.failures) {
    const cause = error.cause instanceof Error ? error.cause : error;
    emit({
      type: 'execution_error',
      data: { ...base, node_id: nodeId, node_type: nodeType, exception_message: error.message, exception_type: cause.name, traceback: (cause.stack ?? '').split('\n') },
    });
  }
  if (state.interrupted) {
    const { nodeId, nodeType } = state.interrupted;
    emit({ type: 'execution_interrupted', data: { ...base, node_id: nodeId, node_type: nodeType } });
    return { status: 'interrupted', ...result, error: new CancelledError() };
  }
  if (state.failures.length > 0) return { status: 'error', ...result, error: state.failures[0]!.error };
  emit({ type: 'execution_success', data: { prompt_id: promptId, timestamp: clock.now() } });
  return { status: 'success', ...result };
}
