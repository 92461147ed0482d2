import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OutputCache } from '../../../src/engine/cache.js';
import type { Clock } from '../../../src/engine/clock.js';
import { defineNode, type NodeContextBase } from '../../../src/engine/define-node.js';
import { NodeExecutionError, WorkflowValidationError } from '../../../src/engine/errors.js';
import type { RunEvent } from '../../../src/engine/events.js';
import { executeGraph, type ExecuteOptions } from '../../../src/engine/execute.js';
import { apiToGraph, type ApiPrompt } from '../../../src/comfy/index.js';
import { NodeRegistry } from '../../../src/engine/registry.js';
import { Probe, testNodes, until } from '../../helpers/test-nodes.js';

const files = { inputDir: '/nonexistent/in', outputDir: '/nonexistent/out' };
const clock: Clock = { now: () => 1_000, sleep: async () => {} };

function context(nodeId: string, signal: AbortSignal): NodeContextBase {
  return {
    nodeId,
    signal,
    files,
    clock,
    log: { debug() {}, info() {}, warn() {} },
    // The engine passes the node pack's services through untouched; these test nodes need none.
    services: undefined,
  };
}

function setup(prompt: ApiPrompt, extra: Partial<ExecuteOptions> = {}, probe = new Probe()) {
  const events: RunEvent[] = [];
  const registry = new NodeRegistry(testNodes(probe));
  const run = executeGraph(apiToGraph(prompt), registry, {
    promptId: 'p1', files, clock, context, onEvent: (e) => events.push(e), ...extra,
  });
  return { run, events, probe, registry };
}

const chain: ApiPrompt = {
  '1': { class_type: 'TestSource', inputs: { value: 'v', seed: 1 } },
  '2': { class_type: 'TestWork', inputs: { image: ['1', 0], tag: 't' } },
  '3': { class_type: 'TestSink', inputs: { task: ['2', 0] } },
};

/** One source feeding `count` Work → Sink branches: works are 2.., sinks follow them. */
function fan(count: number, failing: number[] = []): ApiPrompt {
  const prompt: ApiPrompt = { '1': { class_type: 'TestSource', inputs: {} } };
  for (let i = 0; i < count; i++) {
    const work = String(2 + i);
    prompt[work] = { class_type: 'TestWork', inputs: { image: ['1', 0], mode: failing.includes(2 + i) ? 'fail' : 'ok' } };
    prompt[String(2 + count + i)] = { class_type: 'TestSink', inputs: { task: [work, 0] } };
  }
  return prompt;
}

const summary = (events: RunEvent[]) =>
  events.map((e) => {
    if (e.type === 'executing' || e.type === 'executed' || e.type === 'progress') return `${e.type}:${e.data.node}`;
    if (e.type === 'progress_state') return Object.entries(e.data.nodes).map(([id, n]) => `${n.state}:${id}`).join();
    return e.type;
  });

describe('executeGraph', () => {
  it('runs a chain and emits ComfyUI events in order', async () => {
    const { run, events } = setup(chain);
    const result = await run;
    expect(result).toMatchObject({ status: 'success', executed: ['1', '2', '3'], cached: [] });
    expect(result.outputs['3']).toEqual({ text: 'out:v#1>t' });
    expect(result.uiOutputs).toEqual({ '3': { text: ['out:v#1>t'] } });
    expect(summary(events)).toEqual([
      'execution_start', 'execution_cached',
      'executing:1', 'running:1', 'finished:1',
      'executing:2', 'running:2', 'progress:2', 'finished:2',
      'executing:3', 'running:3', 'finished:3', 'executed:3',
      'execution_success', 'executing:null',
    ]);
    expect(events[7]).toEqual({ type: 'progress', data: { prompt_id: 'p1', node: '2', value: 1, max: 2, phase: 'running', elapsed_ms: 0 } });
  });

  it('never runs more nodes at once than the concurrency limit, starting ready nodes in plan order', async () => {
    const probe = new Probe();
    probe.hold('2', '3', '4', '5', '6');
    const { run } = setup(fan(5), { concurrency: 2 }, probe);
    await until(() => probe.active === 2);
    expect(probe.started).toEqual(['1', '2', '3']);
    for (const id of ['2', '3', '4', '5', '6']) {
      probe.open(id);
      await until(() => probe.passed.includes(id));
    }
    const result = await run;
    expect(result.status).toBe('success');
    expect(probe.maxActive).toBe(2);
    // Works come before sinks in plan order, so a free slot goes to the next work first.
    expect(probe.started).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(result.executed).toHaveLength(11);
  });

  it('runs independent branches at the same time under the default limit', async () => {
    const probe = new Probe();
    probe.hold('2', '3', '4');
    const { run } = setup(fan(3), {}, probe);
    await until(() => probe.active === 3);
    ['2', '3', '4'].forEach((id) => probe.open(id));
    expect((await run).status).toBe('success');
  });

  it('interrupts: the running node sees the abort, nothing else starts, status interrupted', async () => {
    const probe = new Probe();
    probe.hold('2');
    const controller = new AbortController();
    const { run, events } = setup(chain, { signal: controller.signal }, probe);
    await until(() => probe.started.includes('2'));
    controller.abort();
    const result = await run;
    expect(result.status).toBe('interrupted');
    expect(probe.aborted).toEqual(['2']);
    expect(probe.started).toEqual(['1', '2']);
    expect(result.executed).toEqual(['1']);
    const interrupted = events.find((e) => e.type === 'execution_interrupted');
    expect(interrupted?.data).toEqual({ prompt_id: 'p1', node_id: '2', node_type: 'TestWork', executed: ['1'], timestamp: 1000 });
    expect(summary(events).slice(-2)).toEqual(['execution_interrupted', 'executing:null']);
  });

  it('a failure stops only what depends on it: independent branches run to the end, nothing is aborted', async () => {
    const probe = new Probe();
    probe.hold('3');
    const { run, events } = setup(fan(3, [2]), {}, probe);
    await until(() => probe.started.includes('2') && probe.active === 1);
    probe.open('3');
    const result = await run;
    expect(result.status).toBe('error');
    expect(result.error).toBeInstanceOf(NodeExecutionError);
    expect(result.error!.message).toBe('Node "2" (TestWork): work 2 failed');
    expect(probe.aborted).toEqual([]);
    // Works 3 and 4 and their sinks 6 and 7 finish; only sink 5 (behind the failed work 2) is skipped.
    expect([...result.executed].sort()).toEqual(['1', '3', '4', '6', '7']);
    expect(result.failures.map((f) => [f.nodeId, f.nodeType, f.error.message])).toEqual([['2', 'TestWork', 'Node "2" (TestWork): work 2 failed']]);
    expect(result.skipped).toEqual(['5']);
    const failed = events.find((e) => e.type === 'execution_error');
    expect(failed?.data).toMatchObject({ node_id: '2', node_type: 'TestWork', exception_type: 'Error', exception_message: 'Node "2" (TestWork): work 2 failed' });
    expect(summary(events).slice(-2)).toEqual(['execution_error', 'executing:null']);
  });

  it('a failure inside a subgraph is named by its path, not its flattened execution id', async () => {
    const registry = new NodeRegistry(testNodes(new Probe()));
    const graph = apiToGraph({
      '1': chain['1']!,
      '10:7': { class_type: 'TestWork', inputs: { image: ['1', 0], mode: 'fail' } },
      '3': { class_type: 'TestSink', inputs: { task: ['10:7', 0] } },
    });
    graph.nodes.get('10:7')!.where = 'subgraph "Animate" › node 7';
    const events: RunEvent[] = [];
    const result = await executeGraph(graph, registry, { promptId: 'p1', files, clock, context, onEvent: (e) => events.push(e) });
    expect(result.error!.message).toBe('subgraph "Animate" › node 7 (TestWork): work 10:7 failed');
    // ComfyUI's clients find the node by its execution id; the message is for people.
    expect(events.find((e) => e.type === 'execution_error')?.data).toMatchObject({ node_id: '10:7', exception_message: 'subgraph "Animate" › node 7 (TestWork): work 10:7 failed' });
  });

  it('lists every failed node, each with its own execution_error, before the stream ends', async () => {
    const { run, events } = setup(fan(4, [2, 4]));
    const result = await run;
    expect(result.status).toBe('error');
    expect(result.failures.map((f) => f.error.message)).toEqual(['Node "2" (TestWork): work 2 failed', 'Node "4" (TestWork): work 4 failed']);
    expect(result.skipped).toEqual(['6', '8']);
    expect([...result.executed].sort()).toEqual(['1', '3', '5', '7', '9']);
    const errors = events.filter((e) => e.type === 'execution_error').map((e) => e.data.node_id);
    expect(errors).toEqual(['2', '4']);
    expect(summary(events).slice(-3)).toEqual(['execution_error', 'execution_error', 'executing:null']);
  });

  it('fail-fast starts nothing new after the first failure but lets running nodes finish, never aborting them', async () => {
    const probe = new Probe();
    probe.hold('3');
    const { run } = setup(fan(3, [2]), { concurrency: 2, failFast: true }, probe);
    await until(() => probe.started.includes('3') && probe.active === 1);
    probe.open('3');
    const result = await run;
    expect(result.status).toBe('error');
    expect(probe.aborted).toEqual([]);
    expect(probe.started).toEqual(['1', '2', '3']);
    expect(result.executed).toEqual(['1', '3']);
    expect(result.failures.map((f) => f.nodeId)).toEqual(['2']);
    expect(result.skipped).toEqual(['4', '5', '6', '7']);
  });

  it('the user interrupt after a failure still aborts the running nodes and reports interrupted, with the failure kept', async () => {
    const probe = new Probe();
    probe.hold('3');
    const controller = new AbortController();
    const { run } = setup(fan(2, [2]), { signal: controller.signal }, probe);
    await until(() => probe.started.includes('3') && probe.active === 1);
    controller.abort();
    const result = await run;
    expect(result.status).toBe('interrupted');
    expect(probe.aborted).toEqual(['3']);
    expect(result.failures.map((f) => f.nodeId)).toEqual(['2']);
  });

  it('a node waiting outside its slot does not hold it: 5 waits at once under concurrency 2, never more than 2 working', async () => {
    const gates = new Map<string, () => void>();
    let waiting = 0;
    let maxWaiting = 0;
    let working = 0;
    let maxWorking = 0;
    const work = async () => {
      working++;
      maxWorking = Math.max(maxWorking, working);
      await new Promise((resolve) => setImmediate(resolve));
      working--;
    };
    const waiter = defineNode({
      type: 'TestWaiter', version: 1, displayName: 'Waiter', category: 'test', description: 'Works, waits outside its slot, works again.',
      inputs: {}, params: z.object({}), outputs: [], outputNode: true,
      async run(_inputs, _p, ctx) {
        await work();
        await ctx.releaseSlotWhile(async () => {
          waiting++;
          maxWaiting = Math.max(maxWaiting, waiting);
          await new Promise<void>((resolve) => gates.set(ctx.nodeId, resolve));
          waiting--;
        });
        await work();
        return {};
      },
    });
    const prompt: ApiPrompt = Object.fromEntries(['1', '2', '3', '4', '5'].map((id) => [id, { class_type: 'TestWaiter', inputs: {} }]));
    const run = executeGraph(apiToGraph(prompt), new NodeRegistry([waiter]), { promptId: 'p', files, context, concurrency: 2 });
    await until(() => waiting === 5);
    expect(maxWorking).toBeLessThanOrEqual(2);
    for (const open of gates.values()) open();
    const result = await run;
    expect(result.status).toBe('success');
    expect(result.executed).toHaveLength(5);
    expect(maxWaiting).toBe(5);
    expect(maxWorking).toBe(2);
  });

  it('refuses a graph with an unknown type or invalid params', async () => {
    await expect(setup({ ...chain, '4': { class_type: 'Nope', inputs: {} } }).run).resolves.toBeDefined();
    const bad: ApiPrompt = { ...chain, '2': { class_type: 'TestWork', inputs: { image: ['1', 0], mode: 'maybe' } } };
    await expect(setup(bad).run).rejects.toThrow(WorkflowValidationError);
    const unknownNeeded: ApiPrompt = { ...chain, '2': { class_type: 'Nope', inputs: { image: ['1', 0] } } };
    await expect(setup(unknownNeeded).run).rejects.toThrow(/Node type does not exist/);
  });

  it('takes the params validation already parsed instead of parsing them again', async () => {
    const { run } = setup(chain, { params: new Map([['1', { value: 'parsed', seed: 7 }]]) });
    const result = await run;
    // Node 1 got the given params (its own are value "v", seed 1); node 2, absent from the map, was parsed as ever.
    expect(result.outputs['1']).toEqual({ IMAGE: 'parsed#7' });
    expect(result.status).toBe('success');
  });

  it('fails a node whose run() leaves out a declared output', async () => {
    const broken = defineNode({
      type: 'TestBroken', version: 1, displayName: 'Broken', category: 'test', description: 'Forgets its output.',
      inputs: {}, params: z.object({}), outputs: [{ name: 'TASK', type: 'TASK' }], run: async () => ({ OTHER: 1 }),
    });
    const registry = new NodeRegistry([...testNodes(), broken]);
    const graph = apiToGraph({ '1': { class_type: 'TestBroken', inputs: {} }, '2': { class_type: 'TestSink', inputs: { task: ['1', 0] } } });
    const result = await executeGraph(graph, registry, { promptId: 'p', files, context });
    expect(result.error?.message).toBe('Node "1" (TestBroken): run() returned no value for output "TASK".');
  });

  it('runs a run() that is not async, and fails a run() that throws before returning a promise', async () => {
    const plain = (type: string, run: () => Record<string, unknown>) =>
      defineNode({ type, version: 1, displayName: type, category: 'test', description: 'Not async.', inputs: {}, params: z.object({}), outputs: [{ name: 'TASK', type: 'TASK' }], run: run as never });
    const registry = new NodeRegistry([...testNodes(), plain('TestPlain', () => ({ TASK: 'plain' })), plain('TestThrows', () => { throw new Error('bad input'); })]);
    const graph = apiToGraph({
      '1': { class_type: 'TestPlain', inputs: {} }, '2': { class_type: 'TestSink', inputs: { task: ['1', 0] } },
      '3': { class_type: 'TestThrows', inputs: {} }, '4': { class_type: 'TestSink', inputs: { task: ['3', 0] } },
    });
    const result = await executeGraph(graph, registry, { promptId: 'p', files, context });
    expect(result.outputs['2']).toEqual({ text: 'out:plain' });
    expect(result.failures.map((f) => [f.nodeId, f.error.message])).toEqual([['3', 'Node "3" (TestThrows): bad input']]);
    expect(result.skipped).toEqual(['4']);
  });

  it('hands a node inputs that inherit nothing and a context that shows none of the executor\'s own fields', async () => {
    let seen: { inherited: unknown[]; keys: string[]; ctxKeys: string[] } | undefined;
    const probe = defineNode({
      type: 'TestInspect', version: 1, displayName: 'Inspect', category: 'test', description: 'Looks at what it got.',
      inputs: { task: { type: 'TASK' } }, params: z.object({}), outputs: [], outputNode: true,
      run: async (inputs, _p, ctx) => {
        const record = inputs as Record<string, unknown>;
        seen = { inherited: [record.toString, record.constructor, record.hasOwnProperty], keys: Object.keys(inputs), ctxKeys: Object.keys(ctx).sort() };
        return {};
      },
    });
    const registry = new NodeRegistry([...testNodes(), probe]);
    const graph = apiToGraph({ ...chain, '3': { class_type: 'TestInspect', inputs: { task: ['2', 0] } } });
    const result = await executeGraph(graph, registry, { promptId: 'p', files, context });
    expect(result.status).toBe('success');
    expect(seen).toEqual({
      inherited: [undefined, undefined, undefined],
      keys: ['task'],
      ctxKeys: ['clock', 'downstream', 'env', 'files', 'log', 'nodeId', 'services', 'signal', 'workflow'],
    });
  });

  it('fails a node whose uiOutput throws, and still ends the run', async () => {
    const registry = new NodeRegistry(testNodes().map((def) => (def.type === 'TestSink' ? { ...def, uiOutput: () => { throw new Error('cannot show'); } } : def)));
    const result = await executeGraph(apiToGraph(chain), registry, { promptId: 'p', files, context });
    expect(result.status).toBe('error');
    expect(result.error?.message).toBe('Node "3" (TestSink): cannot show');
  });

  it('fails a node linked to an output its source does not have, naming the input', async () => {
    // Validation refuses this; the executor still never hands a node another node's value.
    const graph = apiToGraph({ ...chain, '3': { class_type: 'TestSink', inputs: { task: ['2', 1] } } });
    const result = await executeGraph(graph, new NodeRegistry(testNodes()), { promptId: 'p', files, context });
    expect(result.error?.message).toBe('Node "3" (TestSink): input "task" is linked to output 1 of node "2", which does not exist.');
  });
});

describe('executeGraph with the output cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelgraph-exec-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const twoChains: ApiPrompt = {
    ...chain,
    '4': { class_type: 'TestSource', inputs: { value: 'w' } },
    '5': { class_type: 'TestWork', inputs: { image: ['4', 0] } },
    '6': { class_type: 'TestSink', inputs: { task: ['5', 0] } },
  };

  it('a second run with a new cache on the same folder executes nothing and reports all cached', async () => {
    const first = await setup(twoChains, { cache: new OutputCache(dir) }).run;
    expect([...first.executed].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    const { run, events, probe } = setup(twoChains, { cache: new OutputCache(dir) });
    const second = await run;
    expect(second).toMatchObject({ status: 'success', executed: [], cached: ['1', '2', '3', '4', '5', '6'] });
    expect(probe.started).toEqual([]);
    expect(second.outputs).toEqual(first.outputs);
    expect(summary(events)).toEqual(['execution_start', 'execution_cached', 'executed:3', 'executed:6', 'execution_success', 'executing:null']);
    expect(events[1]!.data).toMatchObject({ nodes: ['1', '2', '3', '4', '5', '6'] });
  });

  it('writes a durable (fsynced) cache entry only for a node that plans paid jobs', async () => {
    const writes: { key: string; durable: boolean | undefined }[] = [];
    class RecordingCache extends OutputCache {
      override async set(key: string, outputs: Record<string, unknown>, options?: { durable?: boolean }): Promise<void> {
        writes.push({ key, durable: options?.durable });
        await super.set(key, outputs, options);
      }
    }
    const nodes = testNodes().map((def) => (def.type === 'TestWork' ? { ...def, plannedJobs: () => [{ provider: 'runway', model: 'gen4_turbo', durationSeconds: 5 }] } : def));
    const result = await executeGraph(apiToGraph(chain), new NodeRegistry(nodes), { promptId: 'p1', files, clock, context, cache: new RecordingCache(dir) });
    expect(result.status).toBe('success');
    expect(writes.map((write) => write.durable)).toEqual([false, true, false]);
    // A non-durable entry is still a whole entry that a second instance reads back.
    expect(await new OutputCache(dir).get(writes[0]!.key)).toEqual(result.outputs['1']);
  });

  it('changing one param re-runs only that node and its dependents', async () => {
    await setup(twoChains, { cache: new OutputCache(dir) }).run;
    const changed: ApiPrompt = { ...twoChains, '2': { class_type: 'TestWork', inputs: { image: ['1', 0], tag: 'new' } } };
    const result = await setup(changed, { cache: new OutputCache(dir) }).run;
    expect(result.executed).toEqual(['2', '3']);
    expect(result.cached).toEqual(['1', '4', '5', '6']);
    expect(result.outputs['3']).toEqual({ text: 'out:v#1>new' });
  });

  it('keys do not depend on node ids', async () => {
    await setup(chain, { cache: new OutputCache(dir) }).run;
    const renumbered: ApiPrompt = {
      '10': { class_type: 'TestSource', inputs: { value: 'v', seed: 1 } },
      '20': { class_type: 'TestWork', inputs: { image: ['10', 0], tag: 't' } },
      '30': { class_type: 'TestSink', inputs: { task: ['20', 0] } },
    };
    expect((await setup(renumbered, { cache: new OutputCache(dir) }).run).executed).toEqual([]);
  });

  it('without a cache every node runs every time', async () => {
    await setup(chain, { cache: new OutputCache(dir) }).run;
    const result = await setup(chain).run;
    expect(result).toMatchObject({ executed: ['1', '2', '3'], cached: [] });
  });

  it('writes each node to the cache as it finishes, so an interrupted run keeps what finished', async () => {
    const probe = new Probe();
    probe.hold('3');
    const controller = new AbortController();
    const { run } = setup(chain, { cache: new OutputCache(dir), signal: controller.signal }, probe);
    await until(() => probe.started.includes('3'));
    controller.abort();
    expect((await run).status).toBe('interrupted');
    const again = await setup(chain, { cache: new OutputCache(dir) }).run;
    expect(again).toMatchObject({ executed: ['3'], cached: ['1', '2'] });
  });

  it('re-runs nodes that are not cacheable or whose cached outputs are no longer valid', async () => {
    let valid = true;
    const nodes = testNodes().map((def) =>
      def.type === 'TestWork' ? { ...def, cacheable: false } : def.type === 'TestSink' ? { ...def, isCacheValid: async () => valid } : def,
    );
    const registry = new NodeRegistry(nodes);
    const runOnce = () => executeGraph(apiToGraph(chain), registry, { promptId: 'p', files, context, cache: new OutputCache(dir) });
    await runOnce();
    // Nothing needs the uncacheable node while its consumer's cached output is valid.
    expect(await runOnce()).toMatchObject({ executed: [], cached: ['1', '3'] });
    valid = false;
    expect(await runOnce()).toMatchObject({ executed: ['2', '3'], cached: ['1'] });
  });

  it('a fingerprint change re-runs the node and its dependents', async () => {
    let content = 'a';
    const nodes = testNodes().map((def) => (def.type === 'TestSource' ? { ...def, fingerprint: async () => content } : def));
    const registry = new NodeRegistry(nodes);
    const runOnce = () => executeGraph(apiToGraph(chain), registry, { promptId: 'p', files, context, cache: new OutputCache(dir) });
    await runOnce();
    expect((await runOnce()).executed).toEqual([]);
    content = 'b';
    expect((await runOnce()).executed).toEqual(['1', '2', '3']);
  });
});
