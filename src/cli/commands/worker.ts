import { resolve } from 'node:path';
import { parse, positiveInt, UsageError } from '../args.js';
import { untilSignal } from './serve.js';
import type { Logger } from '../../engine/define-node.js';

const USAGE = 'reelgraph worker --redis redis://HOST:PORT [--concurrency N] [--rate N] [--output-dir DIR] [--json]';

/**
 * `reelgraph worker`: runs batch rows and server prompts from the Redis queues until Ctrl-C/SIGTERM, then finishes
 * the rows it holds (their provider jobs are never cancelled by a worker stopping).
 */
export async function workerCommand(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      redis: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      'output-dir': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-check-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!values.redis) throw new UsageError(`Missing --redis.\nUsage: ${USAGE}`);
  const { connect } = await import('../../worker/queue.js');
  const { startWorker } = await import('../../worker/worker.js');
  const { startPromptWorker } = await import('../../server/prompt-worker.js');
  const redisUrl = values.redis;
  connect(redisUrl).disconnect();
  const json = values.json === true || !process.stderr.isTTY;
  const say = (type: string, data: unknown) => process.stdout.write(`${JSON.stringify({ type, data })}\n`);
  const log: Logger = {
    debug() {},
    info: (message) => (json ? say('log', { message }) : process.stderr.write(`${message}\n`)),
    warn: (message) => (json ? say('warning', { message }) : process.stderr.write(`warning: ${message}\n`)),
  };
  const shared = {
    connection: () => connect(redisUrl),
    concurrency: positiveInt(values.concurrency, 'concurrency', 32),
    ratePerSecond: values.rate === undefined ? undefined : positiveInt(values.rate, 'rate', 1),
    outputDir: values['output-dir'] ? resolve(values['output-dir']) : undefined,
    lockMs: values['lock-ms'] === undefined ? undefined : positiveInt(values['lock-ms'], 'lock-ms', 15_000),
    stalledCheckMs: values['stalled-check-ms'] === undefined ? undefined : positiveInt(values['stalled-check-ms'], 'stalled-check-ms', 5_000),
    log,
  };
  // Whole prompts queued by `serve --redis`, beside the batch rows.
  const prompts = startPromptWorker({
    ...shared,
    onPrompt: (promptId, status) => (json ? say('prompt_end', { promptId, status }) : process.stderr.write(`${status === 'success' ? '✓' : '✗'} prompt ${promptId}\n`)),
  });
  const worker = startWorker({
    ...shared,
    onRow: (result) => (json ? say('row_end', result) : process.stderr.write(`${result.status === 'done' ? '✓' : '✗'} ${result.row}${result.reason ? `: ${result.reason}` : ''}\n`)),
  });
  if (json) say('worker_ready', { pid: process.pid });
  else process.stderr.write(`Worker ${process.pid} is taking rows from ${redisUrl.replace(/\/\/[^@/]*@/, '//…@')}. Ctrl-C finishes the rows it holds and stops.\n`);
  await untilSignal();
  await Promise.all([worker.close(), prompts.close()]);
  // The process's own CPU time, for `npm run bench` and capacity planning.
  const cpu = process.cpuUsage();
  if (json) say('worker_stopped', { pid: process.pid, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  return 0;
}
