import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BatchRow } from '../batch/rows.js';
import type { Logger } from '../engine/define-node.js';

/**
 * The Redis side of batches: one BullMQ queue of rows, shared by every `reelgraph worker`, and
 * per batch its workflow (stored once) and its row results (the manifest's source).
 */

export const QUEUE_NAME = 'reelgraph-rows';

/** What every BullMQ worker of ours is given: rows (`reelgraph worker`) and prompts (`serve --redis`). */
export interface QueueWorkerOptions {
  connection: () => Redis;
  /** Jobs at once in this process. */
  concurrency: number;
  /** Job starts per second across every worker of the queue (the provider's create rate). */
  ratePerSecond?: number;
  /** Where videos go when this machine mounts the shared output folder elsewhere. */
  outputDir?: string;
  lockMs?: number;
  stalledCheckMs?: number;
  log: Logger;
}

/**
 * BullMQ worker settings from our options. A job whose worker died stops having its lock renewed and is
 * delivered again (stalled-job handling), at most 3 times before it is failed.
 */
export function workerSettings(options: QueueWorkerOptions) {
  return {
    connection: options.connection(),
    concurrency: options.concurrency,
    ...(options.ratePerSecond ? { limiter: { max: 1, duration: Math.ceil(1000 / options.ratePerSecond) } } : {}),
    lockDuration: options.lockMs ?? 15_000,
    stalledInterval: options.stalledCheckMs ?? 5_000,
    maxStalledCount: 3,
  };
}

/** Batch keys outlive the batch by a week, then Redis drops them. */
export const BATCH_TTL_S = 7 * 24 * 60 * 60;

/** What a queued row carries; the workflow itself is stored once per batch. */
export interface RowJobData {
  batchId: string;
  row: BatchRow;
  /** Estimated USD of the row's jobs, for the manifest. */
  cost: number;
  outputDir: string;
  publicUrl?: string;
  listen?: string;
  metadata: boolean;
}

export interface StoredWorkflow {
  /** The workflow's path where the batch was started: part of every job key, so every worker must use it. */
  path: string;
  /** The document as parsed (ComfyUI Runway nodes already mapped). */
  document: unknown;
}

export const keys = {
  workflow: (batchId: string) => `reelgraph:batch:${batchId}:workflow`,
  results: (batchId: string) => `reelgraph:batch:${batchId}:results`,
  events: (batchId: string) => `reelgraph:batch:${batchId}:events`,
};

/** The same workflow, inputs and output folder make the same batch: re-running the command re-joins it. */
export function batchIdFor(workflowPath: string, inputsPath: string, outputDir: string): string {
  return createHash('sha256').update([workflowPath, inputsPath, outputDir].join('\0')).digest('hex').slice(0, 16);
}

/** BullMQ job ids may not contain ':'; the row index is stable for the same inputs. */
export function rowJobId(batchId: string, row: BatchRow): string {
  return `${batchId}-${row.index}`;
}

/**
 * A connection that waits out a Redis restart instead of failing commands (BullMQ workers
 * require maxRetriesPerRequest: null); commands sent while it was down are sent again.
 */
export function connect(url: string): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`--redis must start with redis:// or rediss://, got "${url}"`);
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (times) => Math.min(times * 100, 2_000) });
}
