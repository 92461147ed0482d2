import type { RunEvent } from '../engine/events.js';
import { emptyRecord } from '../engine/records.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import type { ProviderId } from '../providers/provider.js';

/**
 * ComfyUI's prompt queue: one prompt runs at a time, the rest wait in order, and
 * finished prompts land in a history in ComfyUI's shape so existing clients can read it.
 * Two homes, one interface (ServerQueue): this process (PromptQueue, below) or Redis,
 * shared by every `serve --redis` and run by `reelgraph worker` (redis-queue.ts).
 */

export interface QueueItem {
  number: number;
  promptId: string;
  /** The API-format prompt, as ComfyUI stores it in the queue and history. */
  prompt: Record<string, unknown>;
  /** extra_data with secret-looking keys already removed. */
  extraData: Record<string, unknown>;
  outputsToExecute: string[];
  clientId?: string;
}

export interface HistoryEntry {
  prompt: [number, string, Record<string, unknown>, Record<string, unknown>, string[]];
  outputs: Record<string, Record<string, unknown>>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, unknown][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

export interface JobView {
  item: QueueItem;
  status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
  entry?: HistoryEntry;
  times: { created: number; started?: number; ended?: number };
}

/** A prompt that passed validation, with everything needed to run it. */
export interface PostedPrompt {
  item: QueueItem;
  parsed: ParsedWorkflow;
  /** The prompt as posted (unstripped), parsed again where it runs when that is another process. */
  document: unknown;
  /** The provider ComfyUI's Runway nodes were mapped onto (the prompt's choice or the server's default). */
  provider?: ProviderId;
}

/** Runs one prompt; must report every event through onEvent and settle when the run ends. */
export type RunPrompt = (item: QueueItem, parsed: ParsedWorkflow, signal: AbortSignal, onEvent: (event: RunEvent) => void) => Promise<void>;

/** What the routes and the websocket hub need from a queue, wherever it lives. */
export interface ServerQueue {
  nextNumber(): Promise<number>;
  submit(posted: PostedPrompt): Promise<void>;
  remaining(): Promise<number>;
  /** GET /queue: ComfyUI's tuples `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
  snapshot(): Promise<{ queue_running: unknown[]; queue_pending: unknown[] }>;
  jobs(): Promise<JobView[]>;
  /** Removes waiting prompts (running ones are interrupted instead). */
  delete(promptIds: readonly string[]): Promise<void>;
  clear(): Promise<void>;
  /** Aborts the running prompt named (or every running one when no id is given). */
  interrupt(promptId?: string): Promise<void>;
  historyView(maxItems?: number): Promise<Record<string, HistoryEntry>>;
  historyOf(promptId: string): Promise<Record<string, HistoryEntry>>;
  deleteHistory(promptIds: readonly string[]): Promise<void>;
  clearHistory(): Promise<void>;
  /** Stops what this process runs or listens to; the server calls it on close. */
  close(): Promise<void>;
}

export interface QueueListener {
  /** A run event, with the client id that queued the prompt. */
  event(event: RunEvent, clientId: string | undefined): void;
  /** The queue length changed. */
  changed(): void;
  /** The history changed (an entry added, deleted or cleared): it may be saved. */
  historyChanged?(entries: [string, HistoryEntry][]): void;
}

/** Events that ComfyUI copies into history.status.messages. */
const HISTORY_MESSAGES = new Set(['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted']);
export const MAX_HISTORY = 10_000;

/** The queue in this process: one prompt at a time, history in memory (saved by the listener). */
export class PromptQueue implements ServerQueue {
  private readonly pending: { item: QueueItem; parsed: ParsedWorkflow }[] = [];
  private running: { item: QueueItem; controller: AbortController } | undefined;
  private readonly history = new Map<string, HistoryEntry>();
  private counter = 0;
  private idle: Promise<void> = Promise.resolve();
  /** When each prompt was queued, started and ended (ms), for /api/jobs. */
  private readonly times = new Map<string, { created: number; started?: number; ended?: number }>();

  constructor(private readonly run: RunPrompt, private readonly listener: QueueListener) {}

  /** Puts back a saved history (oldest first), before any prompt is queued. */
  restoreHistory(entries: [string, HistoryEntry][]): void {
    for (const [id, entry] of entries) {
      this.history.set(id, entry);
      this.counter = Math.max(this.counter, entry.prompt[0] + 1);
    }
  }

  async nextNumber(): Promise<number> {
    return this.counter++;
  }

  async submit({ item, parsed }: PostedPrompt): Promise<void> {
    this.times.set(item.promptId, { created: Date.now() });
    this.pending.push({ item, parsed });
    this.listener.changed();
    this.pump();
  }

  async remaining(): Promise<number> {
    return this.pending.length + (this.running ? 1 : 0);
  }

  async snapshot(): Promise<{ queue_running: unknown[]; queue_pending: unknown[] }> {
    return {
      queue_running: this.running ? [tupleOf(this.running.item)] : [],
      queue_pending: this.pending.map(({ item }) => tupleOf(item)),
    };
  }

  /**
   * Every job the queue knows, oldest first, as ComfyUI's comfy_execution/jobs.py sees them: waiting and running
   * prompts, then history (a failed run that was interrupted is "cancelled").
   */
  async jobs(): Promise<JobView[]> {
    const times = (id: string) => this.times.get(id) ?? { created: 0 };
    const finished = [...this.history.values()].map((entry) => finishedJob(entry, times(entry.prompt[1])));
    const running: JobView[] = this.running ? [{ item: this.running.item, status: 'in_progress', times: times(this.running.item.promptId) }] : [];
    return [...finished, ...running, ...this.pending.map(({ item }): JobView => ({ item, status: 'pending', times: times(item.promptId) }))];
  }

  async delete(promptIds: readonly string[]): Promise<void> {
    const ids = new Set(promptIds);
    const before = this.pending.length;
    this.pending.splice(0, this.pending.length, ...this.pending.filter(({ item }) => !ids.has(item.promptId)));
    if (this.pending.length !== before) this.listener.changed();
  }

  async clear(): Promise<void> {
    if (this.pending.length === 0) return;
    this.pending.length = 0;
    this.listener.changed();
  }

  async interrupt(promptId?: string): Promise<void> {
    if (!this.running) return;
    if (promptId !== undefined && this.running.item.promptId !== promptId) return;
    this.running.controller.abort();
  }

  /** Newest last, like ComfyUI; max_items keeps the newest. */
  async historyView(maxItems?: number): Promise<Record<string, HistoryEntry>> {
    const entries = [...this.history.entries()];
    const kept = maxItems !== undefined && maxItems >= 0 ? entries.slice(Math.max(0, entries.length - maxItems)) : entries;
    return Object.fromEntries(kept);
  }

  async historyOf(promptId: string): Promise<Record<string, HistoryEntry>> {
    const entry = this.history.get(promptId);
    return entry ? { [promptId]: entry } : {};
  }

  async deleteHistory(promptIds: readonly string[]): Promise<void> {
    this.forget(promptIds);
  }

  async clearHistory(): Promise<void> {
    for (const id of this.history.keys()) this.times.delete(id);
    this.history.clear();
    this.historyChanged();
  }

  private forget(promptIds: readonly string[]): void {
    for (const id of promptIds) {
      this.history.delete(id);
      this.times.delete(id);
    }
    this.historyChanged();
  }

  private historyChanged(): void {
    this.listener.historyChanged?.([...this.history.entries()]);
  }

  /**
   * Aborts everything, then waits (up to graceMs) for the running prompt to settle: a node that
   * ignores its abort signal must not keep the process alive forever.
   */
  async close(graceMs = 5000): Promise<void> {
    this.pending.length = 0;
    this.running?.controller.abort();
    await Promise.race([this.drained(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }

  private async drained(): Promise<void> {
    while (this.running || this.pending.length > 0) await this.idle;
  }

  private pump(): void {
    if (this.running) return;
    const next = this.pending.shift();
    if (!next) return;
    const controller = new AbortController();
    this.running = { item: next.item, controller };
    this.idle = this.execute(next.item, next.parsed, controller).finally(() => {
      this.running = undefined;
      this.listener.changed();
      this.pump();
    });
  }

  private async execute(item: QueueItem, parsed: ParsedWorkflow, controller: AbortController): Promise<void> {
    const entry = newEntry(item);
    const times = this.times.get(item.promptId);
    if (times) times.started = Date.now();
    const onEvent = (event: RunEvent): void => {
      recordEvent(entry, event);
      this.listener.event(event, item.clientId);
    };
    try {
      await this.run(item, parsed, controller.signal, onEvent);
    } finally {
      if (times) times.ended = Date.now();
      this.history.set(item.promptId, entry);
      if (this.history.size > MAX_HISTORY) this.forget([this.history.keys().next().value!]);
      else this.historyChanged();
    }
  }
}

/** A history entry before its prompt runs: an error until execution_success says otherwise. */
export function newEntry(item: QueueItem): HistoryEntry {
  return {
    prompt: tupleOf(item),
    outputs: emptyRecord(),
    status: { status_str: 'error', completed: false, messages: [] },
    meta: emptyRecord(),
  };
}

/** A finished prompt as /api/jobs shows it (an error that was an interruption is "cancelled"). */
export function finishedJob(entry: HistoryEntry, times: JobView['times']): JobView {
  const [number, promptId, prompt, extraData, outputsToExecute] = entry.prompt;
  const interrupted = entry.status.messages.some(([type]) => type === 'execution_interrupted');
  const status = entry.status.status_str === 'success' ? 'completed' : interrupted ? 'cancelled' : 'failed';
  return { item: { number, promptId, prompt, extraData, outputsToExecute }, status, entry, times };
}

export function tupleOf(item: QueueItem): HistoryEntry['prompt'] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputsToExecute];
}

/** Copies what ComfyUI keeps of an event into the history entry. */
export function recordEvent(entry: HistoryEntry, event: RunEvent): void {
  if (HISTORY_MESSAGES.has(event.type)) entry.status.messages.push([event.type, event.data]);
  if (event.type === 'executed') {
    entry.outputs[event.data.node] = event.data.output;
    const display = event.data.display_node ?? event.data.node;
    entry.meta[event.data.node] = { node_id: event.data.node, display_node: display, parent_node: null, real_node_id: event.data.node };
  }
  if (event.type === 'execution_success') entry.status = { ...entry.status, status_str: 'success', completed: true };
}
