import { Worker, type Job } from 'bullmq';
import { bindRow, resolveColumns } from '../batch/bind.js';
import { describeRow } from '../batch/rows.js';
import { runRow, type RowResult } from '../batch/run-row.js';
import { parseUserWorkflow } from '../app/parse.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import { createHttpClient } from '../http/client.js';
import { RedisJournal } from '../jobs/redis-journal.js';
import { createNodeRegistry } from '../nodes/index.js';
import { BATCH_TTL_S, QUEUE_NAME, keys, workerSettings, type QueueWorkerOptions, type RowJobData, type StoredWorkflow } from './queue.js';

/**
 * `reelgraph worker`: takes rows from the queue and runs each in this process, with the job
 * journal in Redis. BullMQ holds a lock per row while it runs; a worker that dies stops renewing
 * it, and the row is delivered again (stalled-job handling) to a worker that re-attaches to
 * the provider job the journal names. Provider limits are BullMQ's queue-wide rate limiter.
 */

export interface WorkerOptions extends QueueWorkerOptions {
  onRow?(result: RowResult): void;
}

/** Attempts per row: only failures that cost nothing to retry are retried (RowResult.retry). */
export const ROW_ATTEMPTS = 6;

/** A row's result: into the batch's results and its event list, both kept BATCH_TTL_S; one round trip. */
const RECORD_RESULT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`;

export function startWorker(options: WorkerOptions): { close(): Promise<void> } {
  const redis = options.connection();
  redis.defineCommand('reelgraphRowResult', { numberOfKeys: 2, lua: RECORD_RESULT });
  const recordResult = (batchId: string, result: RowResult): Promise<unknown> =>
    (redis as unknown as { reelgraphRowResult(...args: (string | number)[]): Promise<unknown> }).reelgraphRowResult(keys.results(batchId), keys.events(batchId), result.row, JSON.stringify(result), BATCH_TTL_S);
  const journal = new RedisJournal(redis);
  const http = createHttpClient();
  const registry = createNodeRegistry();
  const workflows = new Map<string, Promise<{ stored: StoredWorkflow; parsed: ParsedWorkflow }>>();

  const workflowOf = (batchId: string) => {
    let found = workflows.get(batchId);
    if (!found) {
      found = redis.get(keys.workflow(batchId)).then((text) => {
        if (!text) throw new Error(`batch ${batchId} has no stored workflow (expired?); run the batch command again`);
        const stored = JSON.parse(text) as StoredWorkflow;
        return { stored, parsed: parseUserWorkflow(stored.document, registry) };
      });
      workflows.set(batchId, found);
      found.catch(() => workflows.delete(batchId));
    }
    return found;
  };

  const processRow = async (job: Job<RowJobData>): Promise<string> => {
    const data = job.data;
    const { stored, parsed } = await workflowOf(data.batchId);
    const bound = bindRow(parsed, registry, data.row, resolveColumns(parsed, registry, [data.row]));
    const result = await runRow(bound, data.row, data.cost, {
      workflowPath: stored.path,
      outputDir: options.outputDir ?? data.outputDir,
      journal,
      http,
      publicUrl: data.publicUrl,
      listen: data.listen,
      metadata: data.metadata,
      log: options.log,
    });
    // Thrown: BullMQ tries the row again later (with backoff); the journal makes that re-attach, not re-create.
    if (result.retry && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw new Error(result.reason ?? 'retry');
    await recordResult(data.batchId, result);
    options.onRow?.(result);
    return result.status;
  };

  const worker = new Worker<RowJobData, string>(QUEUE_NAME, processRow, {
    ...workerSettings(options),
    removeOnComplete: { count: 0 },
    removeOnFail: { age: BATCH_TTL_S },
  });
  worker.on('error', (error) => options.log.warn(`queue: ${error.message}`));
  // A row BullMQ gives up on (attempts used, or delivered again too often) still gets its manifest line.
  worker.on('failed', (job, error) => {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const { row, cost, batchId } = job.data;
    const result: RowResult = { row: row.id, index: row.index, inputs: describeRow(row), status: 'failed', reason: error.message, cost, seconds: 0 };
    void recordResult(batchId, result).then(() => options.onRow?.(result));
  });
  return {
    async close() {
      await worker.close();
      await http.close();
      redis.disconnect();
    },
  };
}
