import { z } from 'zod';
import { ALL_RATIOS } from '../../src/providers/catalog.js';
import { defineNode, type AnyNodeDefinition, type NodeContext } from '../../src/engine/define-node.js';
import type { Issue } from '../../src/engine/errors.js';
import { NodeRegistry } from '../../src/engine/registry.js';

/**
 * Small node definitions for runtime unit tests: no network, no files. A Probe records
 * what ran and lets a test hold a node inside run() until it opens its gate, so
 * concurrency and cancellation are tested with promises, never with timing.
 */

interface Gate {
  promise: Promise<void>;
  open(): void;
}

export class Probe {
  /** Node ids in the order run() started. */
  readonly started: string[] = [];
  /** Node ids that got through pass(). */
  readonly passed: string[] = [];
  /** Node ids whose run() saw its signal abort. */
  readonly aborted: string[] = [];
  active = 0;
  maxActive = 0;
  readonly #gates = new Map<string, Gate>();

  /** Holds the node with this id in run() until open(id). */
  hold(...ids: string[]): void {
    for (const id of ids) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.#gates.set(id, { promise, open });
    }
  }

  open(id: string): void {
    this.#gates.get(id)?.open();
  }

  /** What a test node's run() calls: waits at its gate (if any), rejecting when aborted. */
  async pass(ctx: NodeContext): Promise<void> {
    this.started.push(ctx.nodeId);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const gate = this.#gates.get(ctx.nodeId);
      if (gate) await waitOrAbort(gate.promise, ctx.signal, () => this.aborted.push(ctx.nodeId));
      this.passed.push(ctx.nodeId);
    } finally {
      this.active--;
    }
  }
}

function waitOrAbort(promise: Promise<void>, signal: AbortSignal, onAbort: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    });
  });
}

/**
 * Resolves once `condition` holds. It checks after each event-loop turn, then (for file
 * I/O such as cache writes) every few milliseconds; it only fails a test that would hang.
 */
export async function until(condition: () => boolean, attempts = 2000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return;
    await new Promise((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
  throw new Error('condition never became true');
}

/** TestSource → TestWork → TestSink, with a Probe watching. */
export function testNodes(probe = new Probe()): AnyNodeDefinition[] {
  const source = defineNode({
    type: 'TestSource',
    version: 1,
    displayName: 'Test Source',
    category: 'test',
    description: 'Emits its value as an IMAGE.',
    inputs: {},
    params: z.object({ value: z.string().default('x'), seed: z.number().int().min(0).max(100).default(0) }),
    widgets: { seed: { controlAfterGenerate: true } },
    outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    async run(_inputs, p, ctx) {
      await probe.pass(ctx);
      return { IMAGE: `${p.value}#${p.seed}` };
    },
  });
  const work = defineNode({
    type: 'TestWork',
    version: 2,
    displayName: 'Test Work',
    category: 'api node/test',
    description: 'Turns an IMAGE into a TASK; may fail on purpose.',
    inputs: { image: { type: 'IMAGE' } },
    params: z.object({ tag: z.string().max(10).default('t'), mode: z.enum(['ok', 'fail']).default('ok') }),
    outputs: [{ name: 'TASK', type: 'TASK' }],
    validate(p, ctx): Issue[] {
      if (p.tag !== 'invalid') return [];
      return [{ type: 'custom_validation_failed', nodeId: ctx.nodeId, field: 'tag', message: 'Rejected tag', details: 'tag "invalid" is refused' }];
    },
    async run(inputs, p, ctx) {
      ctx.progress({ value: 1, max: 2, phase: 'running' });
      await probe.pass(ctx);
      if (p.mode === 'fail') throw new Error(`work ${ctx.nodeId} failed`);
      return { TASK: `${String(inputs.image)}>${p.tag}` };
    },
  });
  const sink = defineNode({
    type: 'TestSink',
    version: 1,
    displayName: 'Test Sink',
    category: 'test',
    description: 'An output node that shows what it got.',
    inputs: { task: { type: 'TASK' }, extra: { type: 'VIDEO', optional: true } },
    params: z.object({ prefix: z.string().default('out') }),
    outputs: [],
    outputNode: true,
    async run(inputs, p, ctx) {
      await probe.pass(ctx);
      return { text: `${p.prefix}:${String(inputs.task)}` };
    },
    uiOutput: (outputs) => ({ text: [outputs.text] }),
  });
  return [source, work, sink];
}

/**
 * Stand-ins with the real five nodes' types, sockets and params (widget order is the
 * saved widgets_values order), for parsing and validating the shared fixtures.
 */
export function fixtureNodes(): AnyNodeDefinition[] {
  const fail = async (): Promise<never> => {
    throw new Error('fixture nodes do not run');
  };
  const base = { version: 1, description: 'fixture stand-in', run: fail };
  return [
    defineNode({
      ...base, type: 'LoadImage', displayName: 'Load Image', category: 'image', inputs: {},
      params: z.object({ image: z.string() }),
      widgets: { image: { imageUpload: true } },
      outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    }),
    defineNode({
      ...base, type: 'ValidateImage', displayName: 'Validate Image', category: 'image',
      inputs: { image: { type: 'IMAGE' } }, params: z.object({}), outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
    }),
    defineNode({
      ...base, type: 'RunwayI2V', displayName: 'Runway Image to Video', category: 'api node/video/Runway',
      inputs: { image: { type: 'IMAGE' } },
      params: z.object({
        provider: z.enum(['runcomfy', 'cometapi', 'runway']).default('runway'),
        model: z.enum(['gen4_turbo', 'gen3a_turbo']).default('gen4_turbo'),
        promptText: z.string().max(1000).default(''),
        ratio: z.enum(ALL_RATIOS as [string, ...string[]]).default('1280:720'),
        duration: z.literal([5, 10]).default(5),
        seed: z.number().int().min(0).max(4294967295).default(0),
        watermark: z.boolean().default(false),
      }),
      widgets: { promptText: { multiline: true }, seed: { controlAfterGenerate: true } },
      outputs: [{ name: 'TASK', type: 'TASK' }],
    }),
    defineNode({
      ...base, type: 'Poll', displayName: 'Poll', category: 'api node/video/Runway',
      inputs: { task: { type: 'TASK' } },
      params: z.object({ interval_s: z.number().min(0.05).max(600).default(5), timeout_s: z.number().min(1).max(86400).default(1800) }),
      outputs: [{ name: 'VIDEO', type: 'VIDEO' }],
    }),
    defineNode({
      ...base, type: 'SaveVideo', displayName: 'Save Video', category: 'video',
      inputs: { video: { type: 'VIDEO' } },
      params: z.object({
        filename_prefix: z.string().default('reelgraph/video'),
        format: z.enum(['auto', 'mp4']).default('auto'),
        codec: z.enum(['auto', 'h264']).default('auto'),
      }),
      outputs: [], outputNode: true,
    }),
  ];
}

export function testRegistry(probe?: Probe): NodeRegistry {
  return new NodeRegistry(testNodes(probe));
}

export function fixtureRegistry(): NodeRegistry {
  return new NodeRegistry(fixtureNodes());
}
