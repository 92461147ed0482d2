import { deserialize, serialize } from 'node:v8';
import { withLazyApi, type ParsedWorkflow } from '../comfy/index.js';
import type { Graph, GraphNode } from '../engine/graph.js';
import { emptyRecord } from '../engine/records.js';
import type { PromptCheck } from './prompt-check.js';

/**
 * A checked prompt on its way back from the worker thread. One structured clone of a 20k-node workflow takes the
 * main thread hundreds of milliseconds in one piece; here the big parts (the graph's nodes, the history copy of the
 * prompt) travel as slices, each serialized on its own into a transferred buffer, and the main thread rebuilds them
 * a slice at a time, letting the event loop run in between.
 */

/** Entries per slice: a few milliseconds of deserializing each. */
const PER_SLICE = 1000;

type Valid = Extract<PromptCheck, { ok: true }>;

export interface PackedCheck {
  /** Everything but the sliced parts (ui, opened, extra data: one piece). */
  head: ArrayBuffer;
  nodes: ArrayBuffer[];
  /** Slices of [key, value] pairs; undefined when the check had no history copy. */
  history: ArrayBuffer[] | undefined;
}

interface Head {
  format: ParsedWorkflow['format'];
  ui: ParsedWorkflow['ui'];
  opened: ParsedWorkflow['opened'];
  rest: Omit<Valid, 'parsed' | 'history'>;
}

export function packCheck(check: Valid): { packed: PackedCheck; transfer: ArrayBuffer[] } {
  const { parsed, history, ...rest } = check;
  const head: Head = { format: parsed.format, ui: parsed.ui, opened: parsed.opened, rest };
  const packed: PackedCheck = {
    head: buffer(serialize(head)),
    nodes: slices([...parsed.graph.nodes.values()]),
    history: history === undefined ? undefined : slices(Object.entries(history)),
  };
  return { packed, transfer: [packed.head, ...packed.nodes, ...(packed.history ?? [])] };
}

export async function unpackCheck(packed: PackedCheck): Promise<Valid> {
  const head = deserialize(new Uint8Array(packed.head)) as Head;
  const graph: Graph = { nodes: new Map() };
  for (const slice of packed.nodes) {
    await yieldToEventLoop();
    for (const node of deserialize(new Uint8Array(slice)) as GraphNode[]) {
      // Serializing loses the null prototype that keeps ids like "constructor" from finding Object.prototype.
      node.params = Object.assign(emptyRecord(), node.params);
      node.inputs = Object.assign(emptyRecord<GraphNode['inputs'][string]>(), node.inputs);
      graph.nodes.set(node.id, node);
    }
  }
  let history: Record<string, unknown> | undefined;
  if (packed.history) {
    history = {};
    for (const slice of packed.history) {
      await yieldToEventLoop();
      for (const [key, value] of deserialize(new Uint8Array(slice)) as [string, unknown][]) history[key] = value;
    }
  }
  const fields: Omit<ParsedWorkflow, 'api'> = { format: head.format, graph };
  if (head.ui !== undefined) fields.ui = head.ui;
  if (head.opened !== undefined) fields.opened = head.opened;
  return { ...head.rest, parsed: withLazyApi(fields, graph), history };
}

function slices<T>(items: T[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let start = 0; start < items.length; start += PER_SLICE) out.push(buffer(serialize(items.slice(start, start + PER_SLICE))));
  return out;
}

/** The bytes in an ArrayBuffer of their own, so it can be transferred (a Buffer may share a pooled one). */
function buffer(bytes: Buffer): ArrayBuffer {
  const own = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(own).set(bytes);
  return own;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
