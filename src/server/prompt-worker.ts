import { Worker, type Job } from 'bullmq';
import type { RunEvent } from '../engine/events.js';
import { messageOf } from '../engine/errors.js';
import { createHttpClient } from '../http/client.js';
import { RedisJournal } from '../jobs/redis-journal.js';
import { createNodeRegistry } from '../nodes/index.js';
import { workerSettings, type QueueWorkerOptions } from '../worker/queue.js';
import { parsePostedPrompt } from './prompt-route.js';
import { newEntry, recordEvent } from './queue.js';
import { createRunner, failure } from './runner.js';
import { PROMPT_QUEUE, promptKeys, publish, saveHistory, type PromptJobData } from './redis-prompts.js';

/**
 * The prompt side of `reelgraph worker --redis`: runs whole ComfyUI prompts queued by `serve --redis`,
 * as the in-process server would (the same runner), with the job journal in Redis, so a prompt delivered
 * again after its worker died re-attaches to its provider job instead of creating another. Each event
 * goes to the servers by pub/sub; the history entry is written before the prompt's last event
 * (`executing` with node null), so a client that reads /history on that event finds it.
 */

export interface PromptWorkerOptions extends QueueWorkerOptions {
  env?: NodeJS.ProcessEnv;
  /** After each prompt: its id and how it ended (ComfyUI's status_str). */
  onPrompt?(promptId: string, status: 'success' | 'error'): void;
}

export function startPromptWorker(options: PromptWorkerOptions): { close(): Promise<void> } {
  const redis = options.connection();
  const subscriber = options.connection();
  const journal = new RedisJournal(redis);
  const http = createHttpClient();
  const registry = createNodeRegistry();
  const env = options.env ?? process.env;
  const running = new Map<string, AbortController>();

  subscriber.subscribe(promptKeys.interrupt).catch((error: Error) => options.log.warn(`interrupts will not be heard: ${error.message}`));
  subscriber.on('message', (_channel: string, text: string) => {
    let promptId: unknown;
    try {
      promptId = (JSON.parse(text) as { promptId?: unknown }).promptId;
    } catch {
      return;
    }
    for (const [id, controller] of running) if (promptId === undefined || promptId === id) controller.abort();
  });

  const runPrompt = async (job: Job<PromptJobData>): Promise<void> => {
    const { item, document, provider, files } = job.data;
    const controller = new AbortController();
    running.set(item.promptId, controller);
    const entry = newEntry(item);
    const started = Date.now();
    let last: RunEvent | undefined;
    const onEvent = (event: RunEvent): void => {
      recordEvent(entry, event);
      if (event.type === 'executing' && event.data.node === null) last = event;
      // Best effort: a server that misses an event still finds the prompt's end in the history.
      else void publish(redis, { type: 'event', clientId: item.clientId, event }).catch(() => undefined);
    };
    await publish(redis, { type: 'changed' });
    try {
      const runner = createRunner({ ...files, outputDir: options.outputDir ?? files.outputDir, env, http, journal, log: options.log, notice: (line) => options.log.info(line) });
      let parsed;
      try {
        parsed = parsePostedPrompt(document, item.extraData, registry, provider);
      } catch (error) {
        // The server parsed it before queueing; only a different reelgraph version on this worker gets here.
        onEvent(failure(item, `this worker cannot read the prompt: ${messageOf(error)}`, 'WorkflowParseError'));
        onEvent({ type: 'executing', data: { prompt_id: item.promptId, node: null } });
        return;
      }
      await runner(item, parsed, controller.signal, onEvent);
    } finally {
      running.delete(item.promptId);
      await saveHistory(redis, item.promptId, { entry, times: { created: job.timestamp, started, ended: Date.now() } });
      await publish(redis, { type: 'event', clientId: item.clientId, event: last ?? { type: 'executing', data: { prompt_id: item.promptId, node: null } } });
      options.onPrompt?.(item.promptId, entry.status.status_str);
    }
  };

  const worker = new Worker<PromptJobData, void>(PROMPT_QUEUE, runPrompt, workerSettings(options));
  worker.on('error', (error) => options.log.warn(`prompt queue: ${error.message}`));
  // The prompt has left the queue: every server's sockets hear the new queue length.
  worker.on('completed', () => void publish(redis, { type: 'changed' }).catch(() => undefined));
  // Delivered again too often (its workers died): the history says so, or a client would wait forever.
  worker.on('failed', (job, error) => {
    if (!job) return;
    const { item } = job.data;
    const entry = newEntry(item);
    const end = failure(item, error.message, 'WorkerError');
    recordEvent(entry, end);
    void (async () => {
      if (!(await redis.hexists(promptKeys.history, item.promptId))) {
        await saveHistory(redis, item.promptId, { entry, times: { created: job.timestamp, ended: Date.now() } });
        await publish(redis, { type: 'event', clientId: item.clientId, event: end });
        await publish(redis, { type: 'event', clientId: item.clientId, event: { type: 'executing', data: { prompt_id: item.promptId, node: null } } });
      }
      await publish(redis, { type: 'changed' });
    })().catch(() => undefined);
  });
  return {
    async close() {
      // Running prompts finish (their provider jobs are never cancelled by a worker stopping).
      await worker.close();
      await http.close();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}
