import type { OutputCache } from './cache.js';
import { findCacheHits, isOutputDefinition, missingOutput } from './cache-plan.js';
import { systemClock, type Clock } from './clock.js';
import type { AnyNodeDefinition, CacheCheckContext, FilesContext, Logger, NodeContext, NodeContextBase, Progress, Values } from './define-node.js';
import { CancelledError, NodeExecutionError, RuntimeError, WorkflowValidationError, nodeLabel, type Issue } from './errors.js';
import type { RunEvent } from './events.js';
import { checkParams } from './param-issues.js';
import type { Graph } from './graph.js';
import { computeCacheKeys } from './cache-key.js';
import { findCycle, formatCyclePath, planIndexed } from './plan.js';
import { dependentsOf, filledArray, indexGraph, markUpstream, type Dependents, type GraphIndex } from './graph-index.js';
import type { NodeRegistry } from './registry.js';
import { MinHeap } from './min-heap.js';
import { Slots } from './slots.js';
import { emptyRecord, fieldRecord } from './records.js';

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
  /** The params validateGraph parsed, by node id: reused rather than parsed again. */
  params?: ReadonlyMap<string, Record<string, unknown>>;
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
  index: GraphIndex;
  dependents: Dependents;
  /** The numbers of the nodes an output needs, in plan order. */
  order: Int32Array;
  /** By node number; undefined for a type the registry does not know. */
  defs: (AnyNodeDefinition | undefined)[];
  params: (Record<string, unknown> | undefined)[];
  /**
   * Where each output value lives in RunState.values: node i's outputs are values[outputStart[i]] onward, in the
   * order of its definition's outputs; link k reads values[linkValue[k]] (-1: its source is not in the graph).
   * Inputs then cost one array read per link, not a walk through the source's records: on a 100k-node graph with
   * links to random earlier nodes, those scattered reads were most of a node's time.
   */
  outputStart: Int32Array;
  linkValue: Int32Array;
}

interface RunState {
  /** Outputs by node number: taken from the cache or produced in this run. */
  results: (Values | undefined)[];
  /** The same outputs, one value per output slot (Prepared.outputStart). */
  values: unknown[];
  uiOutputs: Record<string, Record<string, unknown>>;
  /** Numbers of the nodes that ran, in the order they finished: the first executedCount. */
  executed: Int32Array;
  executedCount: number;
  /** Numbers of the nodes started so far, in the order they started: the first startedCount. */
  started: Int32Array;
  startedCount: number;
  /** 1 for the nodes running now (not a Set: one that keeps losing and gaining entries keeps reallocating its table). */
  running: Uint8Array;
  runningCount: number;
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
  // Each node's definition, looked up while the graph is indexed. Like ComfyUI, nodes no output needs never run.
  const defs = new Array<AnyNodeDefinition | undefined>(graph.nodes.size);
  const targetList = new Int32Array(graph.nodes.size);
  let targetCount = 0;
  const index = indexGraph(graph, (node, i) => {
    const def = registry.get(node.type);
    defs[i] = def;
    if (isOutputDefinition(def)) targetList[targetCount++] = i;
  });
  const targets = targetList.subarray(0, targetCount);
  const relevant = markUpstream(index, targets);
  const prepared = prepare(graph, index, defs, relevant, options.params);
  const { ids } = index;
  const { hits, hitMarks, keys, volatile } = await lookUpCache(graph, registry, prepared, options);
  // Without cache hits the nodes to run are the relevant ones.
  const toRun = hits.size > 0 ? markUpstream(index, targets, hitMarks) : relevant;
  const state: RunState = {
    results: filledArray<Values>(ids.length),
    values: filledArray(prepared.outputStart[ids.length]!),
    uiOutputs: emptyRecord(),
    executed: new Int32Array(ids.length),
    executedCount: 0,
    started: new Int32Array(ids.length),
    startedCount: 0,
    running: new Uint8Array(ids.length),
    runningCount: 0,
    controller: new AbortController(),
    failures: [],
  };
  const base = { prompt_id: options.promptId };

  emit({ type: 'execution_start', data: { ...base, timestamp: clock.now() } });
  const cached: string[] = [];
  const { order } = prepared;
  // Indexed loops over the typed arrays of a run: for…of allocated an iterator result per node in V8's first tiers.
  for (let p = 0; p < order.length && hits.size > 0; p++) {
    const i = order[p]!;
    const outputs = hitMarks[i] === 1 ? hits.get(ids[i]!) : undefined;
    if (outputs === undefined) continue;
    keepOutputs(prepared, state, i, outputs);
    cached.push(ids[i]!);
  }
  emit({ type: 'execution_cached', data: { ...base, nodes: cached, timestamp: clock.now() } });
  for (const id of cached) reportUiOutput(id, prepared.defs[index.numberOf(id)!]!, hits.get(id)!, state, options.promptId, emit);

  const onAbort = () => interrupt(state, index);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await schedule(prepared, toRun, state, { ...options, clock, emit, keys, volatile });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const failed = new Set(state.failures.map((failure) => failure.nodeId));
  const skipped: string[] = [];
  for (let p = 0; p < order.length; p++) {
    const i = order[p]!;
    if (toRun[i] === 1 && state.results[i] === undefined && !failed.has(ids[i]!)) skipped.push(ids[i]!);
  }
  const result = finish(state, index, hits, cached, skipped, options.promptId, clock, emit);
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

function prepare(graph: Graph, index: GraphIndex, defs: (AnyNodeDefinition | undefined)[], relevant: Uint8Array, validated?: ReadonlyMap<string, Record<string, unknown>>): Prepared {
  const dependents = dependentsOf(index);
  const plan = planIndexed(index, dependents);
  if (!plan.complete) {
    const cycle = findCycle(graph)!;
    throw new WorkflowValidationError([{ type: 'dependency_cycle', nodeId: cycle[0], message: 'Dependency cycle', details: formatCyclePath(graph, cycle) }]);
  }
  const issues: Issue[] = [];
  const params = filledArray<Record<string, unknown>>(index.ids.length);
  const relevantOrder = new Int32Array(plan.order.length);
  let relevantCount = 0;
  for (let p = 0; p < plan.order.length; p++) if (relevant[plan.order[p]!] === 1) relevantOrder[relevantCount++] = plan.order[p]!;
  const order = relevantOrder.subarray(0, relevantCount);
  for (let p = 0; p < order.length; p++) {
    const i = order[p]!;
    const node = index.nodes[i]!;
    const def = defs[i];
    if (!def) {
      issues.push({ type: 'missing_node_type', nodeId: node.id, nodeType: node.type, message: 'Node type does not exist', details: `"${node.type}"` });
      continue;
    }
    // Params validateGraph already parsed are not parsed again.
    const given = validated?.get(index.ids[i]!);
    if (given) {
      params[i] = given;
      continue;
    }
    const check = checkParams(node, def);
    for (let n = 0; n < check.issues.length; n++) issues.push(check.issues[n]!);
    params[i] = check.params;
  }
  if (issues.length > 0) throw new WorkflowValidationError(issues);
  const count = index.ids.length;
  const outputStart = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) outputStart[i + 1] = outputStart[i]! + (defs[i]?.outputs.length ?? 0);
  const { linkFrom, linkSlot } = index;
  const linkValue = new Int32Array(linkFrom.length);
  for (let k = 0; k < linkFrom.length; k++) {
    const from = linkFrom[k]!;
    const slot = linkSlot[k]!;
    const valid = from >= 0 && slot >= 0 && slot < outputStart[from + 1]! - outputStart[from]!;
    linkValue[k] = valid ? outputStart[from]! + slot : -1;
  }
  return { index, dependents, order, defs, params, outputStart, linkValue };
}

/** Keeps node i's outputs, as a record and one value per output slot. */
function keepOutputs(prepared: Prepared, state: RunState, i: number, outputs: Values): void {
  state.results[i] = outputs;
  const names = prepared.defs[i]!.outputs;
  const start = prepared.outputStart[i]!;
  for (let s = 0; s < names.length; s++) state.values[start + s] = outputs[names[s]!.name];
}

/** Cache hits by node id (and marked by node number); keys and fingerprints are only computed when there is a cache (not with --no-cache). */
async function lookUpCache(graph: Graph, registry: NodeRegistry, prepared: Prepared, options: ExecuteOptions) {
  const { index } = prepared;
  const hitMarks = new Uint8Array(index.ids.length);
  if (!options.cache) return { hits: new Map<string, Values>(), hitMarks, keys: new Map<string, string>(), volatile: new Set<string>() };
  const order = Array.from(prepared.order, (i) => index.ids[i]!);
  const params = new Map(Array.from(prepared.order, (i) => [index.ids[i]!, prepared.params[i]!]));
  const { keys, volatile } = await computeCacheKeys(graph, registry, order, params, options.files);
  const defOf = (id: string) => prepared.defs[index.numberOf(id)!]!;
  const hits = await findCacheHits({ order, defOf, keys, volatile, cache: options.cache, check: options.cacheCheck });
  for (const id of hits.keys()) hitMarks[index.numberOf(id)!] = 1;
  return { hits, hitMarks, keys, volatile };
}

type Emit = (event: RunEvent) => void;
const noEmit: Emit = () => {};
type RunOptions = ExecuteOptions & { clock: Clock; emit: Emit; keys: Map<string, string>; volatile: Set<string> };

/**
 * Starts ready nodes in plan order while a slot is free; resolves when nothing runs and nothing more may start.
 * Each node counts the links it still waits for; a finished node counts its dependents down and the ones that
 * reach zero join the ready heap (keyed by plan position). A failed node's dependents never reach zero, so only
 * they are skipped.
 */
function schedule(prepared: Prepared, toRun: Uint8Array, state: RunState, options: RunOptions): Promise<void> {
  const { order, index } = prepared;
  const { linkStart, linkFrom } = index;
  const { dependentStart, dependentFrom } = prepared.dependents;
  const position = new Int32Array(index.ids.length);
  // -1 for the nodes that do not run: counting them down never reaches zero, so finished() need not ask toRun.
  const waiting = new Int32Array(index.ids.length).fill(-1);
  const ready = new MinHeap(index.ids.length);
  for (let p = 0; p < order.length; p++) {
    const i = order[p]!;
    position[i] = p;
    if (toRun[i] !== 1) continue;
    waiting[i] = 0;
    // Cached sources are already in the results.
    for (let k = linkStart[i]!; k < linkStart[i + 1]!; k++) if (toRun[linkFrom[k]!] === 1) waiting[i]!++;
    if (waiting[i] === 0) ready.push(p);
  }
  const finished = (i: number): void => {
    for (let k = dependentStart[i]!; k < dependentStart[i + 1]!; k++) {
      const dependent = dependentFrom[k]!;
      if (--waiting[dependent]! === 0) ready.push(position[dependent]!);
    }
  };
  let stopped = false;
  return new Promise<void>((resolve) => {
    // Called by runNode when node i has ended (one closure per run, not one per node).
    const settle = (i: number, succeeded: boolean): void => {
      state.running[i] = 0;
      state.runningCount--;
      if (succeeded) finished(i);
      slots.give();
      pump();
    };
    const pump = (): void => {
      stopped ||= state.interrupted !== undefined || (options.failFast === true && state.failures.length > 0);
      while (!stopped && ready.size > 0 && slots.tryTake()) {
        const i = order[ready.pop()!]!;
        state.running[i] = 1;
        state.runningCount++;
        state.started[state.startedCount++] = i;
        void runNode(prepared, i, state, options, slots, settle);
      }
      if (state.runningCount === 0) resolve();
    };
    const slots = new Slots(options.concurrency ?? 8, pump);
    pump();
  });
}

/**
 * One node's context: the caller's part (NodeContextBase) copied in, and the executor's (progress reports, giving
 * the slot back while waiting) as methods. One object of one shape per node, not an object, a copy and two
 * closures: at 100k nodes every byte allocated per node shows up as garbage collection, and the cost then grows
 * faster than the node count.
 */
class NodeRun implements NodeContext {
  readonly nodeId: string;
  readonly services: unknown;
  readonly files: FilesContext;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly workflow: NodeContext['workflow'];
  readonly downstream: NodeContext['downstream'];
  readonly env: NodeContext['env'];
  readonly #options: RunOptions;
  readonly #slots: Slots;
  readonly #startedAt: number;
  #released = false;

  constructor(base: NodeContextBase, options: RunOptions, slots: Slots) {
    this.nodeId = base.nodeId;
    this.services = base.services;
    this.files = base.files;
    this.clock = base.clock;
    this.log = base.log;
    this.signal = base.signal;
    this.workflow = base.workflow;
    this.downstream = base.downstream;
    this.env = base.env;
    this.#options = options;
    this.#slots = slots;
    this.#startedAt = options.clock.now();
  }

  progress(p: Progress): void {
    const { emit, promptId, clock } = this.#options;
    emit({ type: 'progress', data: { prompt_id: promptId, node: this.nodeId, ...p, elapsed_ms: clock.now() - this.#startedAt } });
  }

  async releaseSlotWhile<T>(wait: () => Promise<T>): Promise<T> {
    if (this.#released) return wait();
    this.#released = true;
    this.#slots.give();
    try {
      return await wait();
    } finally {
      await this.#slots.take();
      this.#released = false;
    }
  }
}

type Settle = (i: number, succeeded: boolean) => void;

/**
 * Starts one node holding a slot; when it ends, `settle` hears whether it succeeded (settle gives the slot back).
 * Never throws. The node's promise is followed with then(), not awaited in an async function: an async frame per
 * node was the biggest allocation of a run.
 */
function runNode(prepared: Prepared, i: number, state: RunState, options: RunOptions, slots: Slots, settle: Settle): void {
  const { index, defs } = prepared;
  const id = index.ids[i]!;
  const { emit, promptId } = options;
  if (emit !== noEmit) emit({ type: 'executing', data: { prompt_id: promptId, node: id, display_node: id } });
  emitNodeState(emit, promptId, id, 'running');
  let running: Promise<Values>;
  let log: NodeContextBase['log'];
  try {
    const ctx = new NodeRun(options.context(id, state.controller.signal), options, slots);
    log = ctx.log;
    const inputs: Values = fieldRecord();
    for (let k = index.linkStart[i]!; k < index.linkStart[i + 1]!; k++) {
      const at = prepared.linkValue[k]!;
      if (at < 0) {
        const name = index.names[index.linkName[k]!]!;
        throw new RuntimeError(`input "${name}" is linked to output ${index.linkSlot[k]!} of node "${index.nodes[i]!.inputs[name]!.from}", which does not exist.`);
      }
      inputs[index.names[index.linkName[k]!]!] = state.values[at];
    }
    // Promise.resolve: a run() that is not async counts too (a promise is returned as is).
    running = Promise.resolve(defs[i]!.run(inputs, prepared.params[i]!, ctx));
  } catch (error) {
    return nodeFailed(prepared, i, state, options, settle, error);
  }
  running.then(
    (outputs) => nodeReturned(prepared, i, state, options, settle, outputs, log),
    (error: unknown) => nodeFailed(prepared, i, state, options, settle, error),
  );
}

/** Keeps what the node returned (and writes it to the cache), then reports it. */
function nodeReturned(prepared: Prepared, i: number, state: RunState, options: RunOptions, settle: Settle, outputs: Values, log: NodeContextBase['log']): void {
  const id = prepared.index.ids[i]!;
  const def = prepared.defs[i]!;
  try {
    const missing = missingOutput(def, outputs);
    if (missing !== undefined) throw new RuntimeError(`run() returned no value for output "${missing}".`);
    keepOutputs(prepared, state, i, outputs);
    state.executed[state.executedCount++] = i;
    // Stored at once, even after an interrupt: a finished paid generation is never lost (and made
    // durable: a node that plans paid jobs). Other nodes' entries are cheap to lose, so no fsync.
    if (options.cache && def.cacheable !== false && !options.volatile.has(id)) {
      const node = prepared.index.nodes[i]!;
      void options.cache
        .set(options.keys.get(id)!, outputs, { durable: def.plannedJobs !== undefined })
        .catch((error: unknown) => log.warn(`${nodeLabel(id, node.type, node.where)}: could not write the output cache: ${String(error)}`))
        .then(
          () => nodeSucceeded(prepared, i, state, options, settle),
          (error: unknown) => nodeFailed(prepared, i, state, options, settle, error),
        );
      return;
    }
  } catch (error) {
    return nodeFailed(prepared, i, state, options, settle, error);
  }
  nodeSucceeded(prepared, i, state, options, settle);
}

function nodeSucceeded(prepared: Prepared, i: number, state: RunState, options: RunOptions, settle: Settle): void {
  const id = prepared.index.ids[i]!;
  try {
    emitNodeState(options.emit, options.promptId, id, 'finished');
    reportUiOutput(id, prepared.defs[i]!, state.results[i]!, state, options.promptId, options.emit);
  } catch (error) {
    return nodeFailed(prepared, i, state, options, settle, error);
  }
  settle(i, true);
}

function nodeFailed(prepared: Prepared, i: number, state: RunState, options: RunOptions, settle: Settle, error: unknown): void {
  const id = prepared.index.ids[i]!;
  const node = prepared.index.nodes[i]!;
  emitNodeState(options.emit, options.promptId, id, 'error');
  recordFailure(state, id, node.type, error, node.where);
  settle(i, false);
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

function interrupt(state: RunState, index: GraphIndex): void {
  if (state.interrupted) return;
  let current: number | undefined;
  for (let n = 0; n < state.startedCount && current === undefined; n++) if (state.running[state.started[n]!] === 1) current = state.started[n];
  state.interrupted = current === undefined ? { nodeId: null, nodeType: null } : { nodeId: index.ids[current]!, nodeType: index.nodes[current]!.type };
  state.controller.abort(new CancelledError());
}

/** One execution_error per failed node (ComfyUI sends one; clients that stop at the first still see a failure). */
function finish(state: RunState, index: GraphIndex, hits: Map<string, Values>, cached: string[], skipped: string[], promptId: string, clock: Clock, emit: Emit): ExecuteResult {
  const executed = new Array<string>(state.executedCount);
  for (let n = 0; n < executed.length; n++) executed[n] = index.ids[state.executed[n]!]!;
  // Cached outputs first, then the rest in the order they finished; a null-prototype record, as uiOutputs, so an id
  // like "__proto__" is an ordinary key.
  const outputs: Record<string, Values> = emptyRecord();
  for (const id of cached) outputs[id] = hits.get(id)!;
  for (let n = 0; n < executed.length; n++) outputs[executed[n]!] = state.results[state.executed[n]!]!;
  const result: Omit<ExecuteResult, 'status'> = {
    outputs,
    uiOutputs: state.uiOutputs,
    executed,
    cached,
    failures: state.failures,
    skipped,
  };
  const base = { prompt_id: promptId, executed, timestamp: clock.now() };
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
