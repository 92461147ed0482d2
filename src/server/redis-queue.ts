import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { connect } from '../worker/queue.js';
import { HttpError } from './http-util.js';
import { finishedJob, tupleOf, type HistoryEntry, type JobView, type PostedPrompt, type QueueListener, type ServerQueue } from './queue.js';
import { PROMPT_QUEUE, isQueueableId, promptKeys, publish, type PromptFiles, type PromptJobData, type PromptMessage, type StoredHistory } from './redis-prompts.js';

/**
 * `serve --redis`: the queue and history in Redis, so every server on the same Redis shows the same
 * ones. Prompts wait on a BullMQ queue until a `reelgraph worker --redis` runs them; the worker writes
 * the history and publishes the run events, which this server routes to its own sockets.
 */

const PENDING = ['waiting', 'prioritized', 'delayed'] as const;
const CONNECT_TIMEOUT_MS = 5_000;

export class RedisServerQueue implements ServerQueue {
  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly queue: Queue<PromptJobData>,
    private readonly files: PromptFiles,
  ) {}

  /** Connects and subscribes; @throws when Redis does not answer within 5 s. */
  static async open(url: string, listener: QueueListener, files: PromptFiles): Promise<RedisServerQueue> {
    const redis = connect(url);
    const subscriber = connect(url);
    const ready = Promise.all([redis.ping(), subscriber.subscribe(promptKeys.events)]);
    // After a timeout the connections are dropped, which rejects these late: nobody waits for them then.
    ready.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis at ${url.replace(/\/\/[^@/]*@/, '//…@')} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    });
    try {
      await Promise.race([ready, timeout]);
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    subscriber.on('message', (_channel: string, text: string) => {
      let message: PromptMessage;
      try {
        message = JSON.parse(text) as PromptMessage;
      } catch {
        return;
      }
      if (message.type === 'changed') listener.changed();
      else if (message.type === 'event') listener.event(message.event, message.clientId);
    });
    return new RedisServerQueue(redis, subscriber, new Queue<PromptJobData>(PROMPT_QUEUE, { connection: connect(url) }), files);
  }

  async nextNumber(): Promise<number> {
    return (await this.redis.incr(promptKeys.number)) - 1;
  }

  async submit({ item, document, provider }: PostedPrompt): Promise<void> {
    if (!isQueueableId(item.promptId)) throw new HttpError(400, 'prompt_id must not contain ":" nor be a whole number when the queue is in Redis');
    const data: PromptJobData = { item, document, ...(provider ? { provider } : {}), files: this.files };
    // Finished prompts leave the queue: the history (written by the worker) is their record.
    await this.queue.add('prompt', data, { jobId: item.promptId, removeOnComplete: true, removeOnFail: true });
    await publish(this.redis, { type: 'changed' });
  }

  async remaining(): Promise<number> {
    const counts = await this.queue.getJobCounts('active', ...PENDING);
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async snapshot(): Promise<{ queue_running: unknown[]; queue_pending: unknown[] }> {
    const [running, pending] = await Promise.all([this.running(), this.pending()]);
    return { queue_running: running.map((job) => tupleOf(job.data.item)), queue_pending: pending.map((job) => tupleOf(job.data.item)) };
  }

  async jobs(): Promise<JobView[]> {
    const [history, running, pending] = await Promise.all([this.history(), this.running(), this.pending()]);
    const finished = history.map(([, stored]) => finishedJob(stored.entry, stored.times));
    const live = (job: Job<PromptJobData>, status: JobView['status']): JobView => ({
      item: job.data.item,
      status,
      times: { created: job.timestamp, ...(job.processedOn ? { started: job.processedOn } : {}) },
    });
    return [...finished, ...running.map((job) => live(job, 'in_progress')), ...pending.map((job) => live(job, 'pending'))];
  }

  /** Only waiting prompts: BullMQ refuses to remove a job a worker holds the lock of (it is running). */
  async delete(promptIds: readonly string[]): Promise<void> {
    let removed = 0;
    for (const id of promptIds) {
      if (!isQueueableId(id)) continue;
      const state = await this.queue.getJobState(id);
      if ((PENDING as readonly string[]).includes(state)) removed += await this.queue.remove(id);
    }
    if (removed > 0) await publish(this.redis, { type: 'changed' });
  }

  async clear(): Promise<void> {
    await this.queue.drain(true);
    await publish(this.redis, { type: 'changed' });
  }

  /** Every worker hears it; the one running the prompt (or every running one, with no id) aborts it. */
  async interrupt(promptId?: string): Promise<void> {
    await this.redis.publish(promptKeys.interrupt, JSON.stringify(promptId === undefined ? {} : { promptId }));
  }

  async historyView(maxItems?: number): Promise<Record<string, HistoryEntry>> {
    const all = await this.history(maxItems);
    return Object.fromEntries(all.map(([id, stored]) => [id, stored.entry]));
  }

  async historyOf(promptId: string): Promise<Record<string, HistoryEntry>> {
    const text = await this.redis.hget(promptKeys.history, promptId);
    const stored = text ? parseStored(text) : undefined;
    return stored ? { [promptId]: stored.entry } : {};
  }

  async deleteHistory(promptIds: readonly string[]): Promise<void> {
    if (promptIds.length === 0) return;
    await this.redis.multi().hdel(promptKeys.history, ...promptIds).zrem(promptKeys.historyOrder, ...promptIds).exec();
  }

  async clearHistory(): Promise<void> {
    await this.redis.del(promptKeys.history, promptKeys.historyOrder);
  }

  /** Prompts keep running on the workers; this server only stops listening. */
  async close(): Promise<void> {
    await this.queue.close();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }

  private async running(): Promise<Job<PromptJobData>[]> {
    return byNumber(await this.queue.getJobs(['active']));
  }

  private async pending(): Promise<Job<PromptJobData>[]> {
    return byNumber(await this.queue.getJobs([...PENDING]));
  }

  /** Oldest first; the newest maxItems when given. */
  private async history(maxItems?: number): Promise<[string, StoredHistory][]> {
    if (maxItems !== undefined && !(maxItems >= 0)) maxItems = undefined;
    if (maxItems === 0) return [];
    const ids = await this.redis.zrange(promptKeys.historyOrder, String(maxItems === undefined ? 0 : -maxItems), '-1');
    if (ids.length === 0) return [];
    const texts = await this.redis.hmget(promptKeys.history, ...ids);
    const found: [string, StoredHistory][] = [];
    ids.forEach((id, index) => {
      const stored = texts[index] ? parseStored(texts[index]) : undefined;
      if (stored) found.push([id, stored]);
    });
    return found;
  }
}

function byNumber(jobs: (Job<PromptJobData> | undefined)[]): Job<PromptJobData>[] {
  return jobs.filter((job): job is Job<PromptJobData> => job !== undefined && job.data?.item !== undefined).sort((a, b) => a.data.item.number - b.data.item.number);
}

function parseStored(text: string): StoredHistory | undefined {
  try {
    const stored = JSON.parse(text) as StoredHistory;
    return Array.isArray(stored.entry?.prompt) ? stored : undefined;
  } catch {
    return undefined;
  }
}
