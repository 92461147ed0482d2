import type { RunEvent } from '../engine/events.js';
import { emptyRecord } from '../engine/records.js';

/**
 * ComfyUI's prompt queue: one prompt runs at a time, the rest wait in order, and
 * finished prompts land in a history in ComfyUI's shape so existing clients can read it.
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

/** Runs one prompt; must report every event through onEvent and settle when the run ends. */
export type RunPrompt = (item: QueueItem, signal: AbortSignal, onEvent: (event: RunEvent) => void) => Promise<void>;

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
const MAX_HISTORY = 10_000;

export class PromptQueue {
  private readonly pending: QueueItem[] = [];
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

  nextNumber(): number {
    return this.counter++;
  }

  enqueue(item: QueueItem): void {
    this.times.set(item.promptId, { created: Date.now() });
    this.pending.push(item);
    this.listener.changed();
    this.pump();
  }

  remaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  /** GET /queue: ComfyUI's tuples `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
  snapshot(): { queue_running: unknown[]; queue_pending: unknown[] } {
    return {
      queue_running: this.running ? [tupleOf(this.running.item)] : [],
      queue_pending: this.pending.map(tupleOf),
    };
  }

  /**
   * Every job the queue knows, oldest first, as ComfyUI's comfy_execution/jobs.py sees them: waiting and running
   * prompts, then history (a failed run that was interrupted is "cancelled").
   */
  jobs(): JobView[] {
    const view = (item: QueueItem, status: JobView['status'], entry?: HistoryEntry): JobView => ({
      item, status, entry, times: this.times.get(item.promptId) ?? { created: 0 },
    });
    const finished = [...this.history.values()].map((entry) => {
      const [number, promptId, prompt, extraData, outputsToExecute] = entry.prompt;
      const interrupted = entry.status.messages.some(([type]) => type === 'execution_interrupted');
      const status = entry.status.status_str === 'success' ? 'completed' : interrupted ? 'cancelled' : 'failed';
      return view({ number, promptId, prompt, extraData, outputsToExecute }, status, entry);
    });
    const running = this.running ? [view(this.running.item, 'in_progress')] : [];
    return [...finished, ...running, ...this.pending.map((item) => view(item, 'pending'))];
  }

  /** Removes waiting prompts (running ones are interrupted instead). */
  delete(promptIds: readonly string[]): void {
    const ids = new Set(promptIds);
    const before = this.pending.length;
    this.pending.splice(0, this.pending.length, ...this.pending.filter((item) => !ids.has(item.promptId)));
    if (this.pending.length !== before) this.listener.changed();
  }

  clear(): void {
    if (this.pending.length === 0) return;
    this.pending.length = 0;
    this.listener.changed();
  }

  /** Aborts the running prompt, if it is the one named (or any when no id is given). */
  interrupt(promptId?: string): boolean {
    if (!this.running) return false;
    if (promptId !== undefined && this.running.item.promptId !== promptId) return false;
    this.running.controller.abort();
    return true;
  }

  /** Newest last, like ComfyUI; max_items keeps the newest. */
  historyView(maxItems?: number): Record<string, HistoryEntry> {
    const entries = [...this.history.entries()];
    const kept = maxItems !== undefined && maxItems >= 0 ? entries.slice(Math.max(0, entries.length - maxItems)) : entries;
    return Object.fromEntries(kept);
  }

  historyOf(promptId: string): Record<string, HistoryEntry> {
    const entry = this.history.get(promptId);
    return entry ? { [promptId]: entry } : {};
  }

  deleteHistory(promptIds: readonly string[]): void {
    for (const id of promptIds) {
      this.history.delete(id);
      this.times.delete(id);
    }
    this.historyChanged();
  }

  clearHistory(): void {
    for (const id of this.history.keys()) this.times.delete(id);
    this.history.clear();
    this.historyChanged();
  }

  private historyChanged(): void {
    this.listener.historyChanged?.([...this.history.entries()]);
  }

  /** Resolves once nothing is running or waiting; the server awaits it on close. */
  async drained(): Promise<void> {
    while (this.running || this.pending.length > 0) await this.idle;
  }

  /** Aborts everything: used when the server closes. */
  abortAll(): void {
    this.pending.length = 0;
    this.running?.controller.abort();
  }

  private pump(): void {
    if (this.running) return;
    const item = this.pending.shift();
    if (!item) return;
    const controller = new AbortController();
    this.running = { item, controller };
    this.idle = this.execute(item, controller).finally(() => {
      this.running = undefined;
      this.listener.changed();
      this.pump();
    });
  }

  private async execute(item: QueueItem, controller: AbortController): Promise<void> {
    const entry: HistoryEntry = {
      prompt: tupleOf(item),
      outputs: emptyRecord(),
      status: { status_str: 'error', completed: false, messages: [] },
      meta: emptyRecord(),
    };
    const times = this.times.get(item.promptId);
    if (times) times.started = Date.now();
    const onEvent = (event: RunEvent): void => {
      record(entry, event);
      this.listener.event(event, item.clientId);
    };
    try {
      await this.run(item, controller.signal, onEvent);
    } finally {
      if (times) times.ended = Date.now();
      this.history.set(item.promptId, entry);
      if (this.history.size > MAX_HISTORY) this.deleteHistory([this.history.keys().next().value!]);
      else this.historyChanged();
    }
  }
}

function tupleOf(item: QueueItem): HistoryEntry['prompt'] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputsToExecute];
}

function record(entry: HistoryEntry, event: RunEvent): void {
  if (HISTORY_MESSAGES.has(event.type)) entry.status.messages.push([event.type, event.data]);
  if (event.type === 'executed') {
    entry.outputs[event.data.node] = event.data.output;
    const display = event.data.display_node ?? event.data.node;
    entry.meta[event.data.node] = { node_id: event.data.node, display_node: display, parent_node: null, real_node_id: event.data.node };
  }
  if (event.type === 'execution_success') entry.status = { ...entry.status, status_str: 'success', completed: true };
}
