import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PreparedRow } from '../batch/prepare.js';
import type { RowResult } from '../batch/run-row.js';
import { describeRow } from '../batch/rows.js';
import { BATCH_TTL_S, QUEUE_NAME, keys, rowJobId, type RowJobData, type StoredWorkflow } from './queue.js';
import { ROW_ATTEMPTS } from './worker.js';

/**
 * `reelgraph batch --redis`: puts the batch's rows on the queue for the workers and follows
 * their results. Re-running the same command re-joins the batch: rows already done are not
 * queued again, rows still queued or running keep their place (same BullMQ job id), and rows
 * that failed are queued again (the journal re-attaches or refuses; it never pays twice).
 */

export interface EnqueueOptions {
  connection: () => Redis;
  batchId: string;
  workflow: StoredWorkflow;
  outputDir: string;
  publicUrl?: string;
  listen?: string;
  metadata: boolean;
  /** Called once per row result (earlier ones first), until every row has one. */
  onResult(result: RowResult, earlier: boolean): void;
  onTick?(queue: { active: number; waiting: number }): void;
  signal?: AbortSignal;
}

const POLL_MS = 250;

/** Rows put on the queue together while later rows are still being checked. */
const CHUNK = 25;

/**
 * `prepared` may still be coming (rowPreparer): rows go on the queue in chunks as they are checked, and the
 * workers start on the first chunk while the rest are checked. `total` is the number of rows it will give.
 */
export async function enqueueAndFollow(prepared: Iterable<PreparedRow> | AsyncIterable<PreparedRow>, total: number, options: EnqueueOptions): Promise<RowResult[]> {
  const redis = options.connection();
  const queue = new Queue<RowJobData>(QUEUE_NAME, { connection: options.connection() });
  try {
    const { batchId } = options;
    await redis.set(keys.workflow(batchId), JSON.stringify(options.workflow), 'EX', BATCH_TTL_S);
    const earlier = new Map(Object.entries(await redis.hgetall(keys.results(batchId))).map(([row, text]) => [row, JSON.parse(text) as RowResult]));
    const results = new Map<string, RowResult>();
    const offset = await redis.llen(keys.events(batchId));
    const queueChunk = async (chunk: PreparedRow[]) => {
      const toQueue: PreparedRow[] = [];
      for (const entry of chunk) {
        const done = earlier.get(entry.row.id);
        const known = entry.invalid ? invalidResult(entry) : done?.status === 'done' ? done : undefined;
        if (!known) {
          toQueue.push(entry);
          continue;
        }
        results.set(entry.row.id, known);
        options.onResult(known, true);
      }
      if (toQueue.length === 0) return;
      // Rows that failed last time: their old job is removed so the same id can be queued again.
      await Promise.all(toQueue.filter((entry) => earlier.has(entry.row.id)).map((entry) => queue.remove(rowJobId(batchId, entry.row))));
      await redis.hdel(keys.results(batchId), '__none__', ...toQueue.map((entry) => entry.row.id));
      await queue.addBulk(
        toQueue.map((entry) => ({
          name: 'row',
          data: { batchId, row: entry.row, cost: entry.cost, outputDir: options.outputDir, publicUrl: options.publicUrl, listen: options.listen, metadata: options.metadata },
          opts: { jobId: rowJobId(batchId, entry.row), attempts: ROW_ATTEMPTS, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true, removeOnFail: { age: BATCH_TTL_S } },
        })),
      );
    };
    let enqueueError: { error: unknown } | undefined;
    const enqueueing = (async () => {
      let chunk: PreparedRow[] = [];
      for await (const entry of prepared) {
        // Ctrl-C stops following, and queueing: a re-run queues the rest.
        if (options.signal?.aborted) return;
        chunk.push(entry);
        if (chunk.length >= CHUNK) await queueChunk(chunk.splice(0));
      }
      await queueChunk(chunk);
    })().catch((error: unknown) => {
      enqueueError = { error };
    });
    let read = offset;
    while (results.size < total && !options.signal?.aborted && !enqueueError) {
      const lines = await redis.lrange(keys.events(batchId), read, -1);
      read += lines.length;
      for (const line of lines) {
        const result = JSON.parse(line) as RowResult;
        if (results.has(result.row)) continue;
        results.set(result.row, result);
        options.onResult(result, false);
      }
      if (options.onTick) {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        options.onTick({ active: counts.active ?? 0, waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0) });
      }
      if (results.size < total && !enqueueError) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await enqueueing;
    if (enqueueError) throw enqueueError.error;
    return [...results.values()];
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function invalidResult(entry: PreparedRow): RowResult {
  return { row: entry.row.id, index: entry.row.index, inputs: describeRow(entry.row), status: 'invalid', reason: entry.invalid ?? 'invalid', seconds: 0 };
}
