import type { Redis } from 'ioredis';
import type { FilesContext } from '../engine/define-node.js';
import type { RunEvent } from '../engine/events.js';
import type { ProviderId } from '../providers/provider.js';
import { MAX_HISTORY, type HistoryEntry, type JobView, type QueueItem } from './queue.js';

/**
 * What `serve --redis` and `reelgraph worker` share in Redis for ComfyUI prompts: a BullMQ queue of
 * whole prompts (beside the batch rows' queue), the history, and two pub/sub channels: run events
 * (worker → every server, which routes them to its sockets) and interrupts (server → every worker).
 *
 * Events travel by pub/sub rather than BullMQ's QueueEvents/job progress: an event is needed only by
 * sockets connected right now, in order, and a missed one is never replayed (the history, written
 * before a prompt's last event, is the record). Pub/sub is one PUBLISH per event and stores nothing;
 * job progress would write every event into the job hash and the events stream, which is trimmed anyway.
 */

export const PROMPT_QUEUE = 'reelgraph-prompts';

export const promptKeys = {
  /** ComfyUI's queue number, shared by every server. */
  number: 'reelgraph:server:number',
  /** prompt id → StoredHistory (JSON). */
  history: 'reelgraph:server:history',
  /** prompt id, scored by the time it ended: the history's order. */
  historyOrder: 'reelgraph:server:history-order',
  events: 'reelgraph:server:events',
  interrupt: 'reelgraph:server:interrupt',
};

/** Where the prompt's files are, as the server that validated it sees them (a shared folder). */
export type PromptFiles = FilesContext;

/** One queued prompt: everything the worker needs to run it as the server would have. */
export interface PromptJobData {
  item: QueueItem;
  /** The prompt as posted; the worker parses it again with the same provider and UI workflow. */
  document: unknown;
  provider?: ProviderId;
  files: PromptFiles;
}

export type PromptMessage = { type: 'event'; clientId?: string; event: RunEvent } | { type: 'changed' };

export interface StoredHistory {
  entry: HistoryEntry;
  times: JobView['times'];
}

/** BullMQ job ids may be neither integers nor contain ':'; a prompt id is the job id, so it may not either. */
export function isQueueableId(promptId: string): boolean {
  return promptId.length <= 200 && !promptId.includes(':') && `${Number.parseInt(promptId, 10)}` !== promptId;
}

export async function publish(redis: Redis, message: PromptMessage): Promise<void> {
  await redis.publish(promptKeys.events, JSON.stringify(message));
}

/** Adds a finished prompt to the history, dropping the oldest beyond MAX_HISTORY as the in-process queue does. */
export async function saveHistory(redis: Redis, promptId: string, stored: StoredHistory): Promise<void> {
  await redis.multi().hset(promptKeys.history, promptId, JSON.stringify(stored)).zadd(promptKeys.historyOrder, stored.times.ended ?? Date.now(), promptId).exec();
  const extra = (await redis.zcard(promptKeys.historyOrder)) - MAX_HISTORY;
  if (extra <= 0) return;
  const oldest = await redis.zpopmin(promptKeys.historyOrder, extra);
  const ids = oldest.filter((_, index) => index % 2 === 0);
  if (ids.length > 0) await redis.hdel(promptKeys.history, ...ids);
}
