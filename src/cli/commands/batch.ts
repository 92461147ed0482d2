import { setMaxListeners } from 'node:events';
import { MANY_LISTENERS } from '../../app/run.js';
import { resolve } from 'node:path';
import { parse, positiveInt, requirePositional, UsageError } from '../args.js';
import { loadWorkflow } from '../load.js';
import { providerOption } from './dry-run.js';
import { readRows } from '../../batch/rows.js';
import { estimateOf, prepareRows, type PreparedRow } from '../../batch/prepare.js';
import { runBatchInProcess } from '../../batch/run-batch.js';
import { writeManifest } from '../../batch/manifest.js';
import { BatchProgress, formatCounts } from '../../batch/progress.js';
import type { RowResult } from '../../batch/run-row.js';
import { CancelledError } from '../../engine/errors.js';
import { OutputCache, defaultCacheDir } from '../../engine/cache.js';
import { createNodeRegistry } from '../../nodes/index.js';
import { loadPrices } from '../../providers/prices.js';
import { JobJournal, defaultStateDir } from '../../jobs/journal.js';

const USAGE =
  'reelgraph batch <workflow> --inputs <folder | rows.csv | rows.jsonl> [--output-dir DIR] [--parallel N] [--dry-run] [--max-cost USD]\n' +
  '                             [--prices FILE] [--json] [--no-cache] [--public-url URL] [--listen HOST:PORT] [--provider P] [--no-metadata] [--redis URL]';

const OPTIONS = {
  inputs: { type: 'string' },
  'output-dir': { type: 'string' },
  parallel: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'max-cost': { type: 'string' },
  prices: { type: 'string' },
  json: { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  'public-url': { type: 'string' },
  listen: { type: 'string' },
  provider: { type: 'string' },
  'no-metadata': { type: 'boolean' },
  verbose: { type: 'boolean' },
  redis: { type: 'string' },
} as const;

export type BatchValues = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/**
 * `reelgraph batch`: one run of the workflow per input row. Exit 0 when every row made its video,
 * 1 when any row failed (the others still ran), 2 when the inputs or --max-cost refuse the batch, 130 interrupted.
 */
export async function batchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, USAGE);
  const file = requirePositional(positionals, 'the workflow file', USAGE);
  if (!values.inputs) throw new UsageError(`Missing --inputs.\nUsage: ${USAGE}`);
  const maxCost = maxCostOption(values['max-cost']);
  const parallel = positiveInt(values.parallel, 'parallel', 32);
  const workflow = await loadWorkflow(file, { provider: providerOption(values.provider) });
  try {
    const rows = await readRows(resolve(values.inputs));
    const outputDir = resolve(values['output-dir'] ?? 'output');
    const registry = createNodeRegistry();
    const journal = new JobJournal(defaultStateDir());
    const prepared = await prepareRows(workflow.parsed, registry, rows, {
      outputDir,
      env: process.env,
      cache: values['no-cache'] ? undefined : new OutputCache(defaultCacheDir()),
      prices: await loadPrices(values.prices),
      journal,
    });
    const estimate = estimateOf(prepared);
    const json = values.json === true || !process.stderr.isTTY;
    if (values['dry-run']) return printDryRun(prepared, values.json === true);
    if (maxCost !== undefined && estimate.usd > maxCost) {
      process.stderr.write(
        `The batch would create ${estimate.jobs} provider jobs estimated at $${estimate.usd.toFixed(2)}, above --max-cost $${maxCost.toFixed(2)}; nothing was submitted.\n`,
      );
      return 2;
    }
    if (values.redis) return await enqueueBatch(prepared, { redisUrl: values.redis, workflowPath: workflow.path, inputsPath: resolve(values.inputs), document: workflow.parsed.ui ?? workflow.parsed.api, outputDir, json, values });
    const controller = new AbortController();
    // Every running row listens on this one signal.
    setMaxListeners(MANY_LISTENERS, controller.signal);
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new CancelledError('Interrupted by Ctrl-C'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const report = batchReporter(prepared, json);
    report.begin(estimate);
    try {
      const results = await runBatchInProcess(prepared, {
        journal,
        parallel,
        workflowPath: workflow.path,
        outputDir,
        cache: values['no-cache'] ? false : true,
        publicUrl: values['public-url'],
        listen: values.listen,
        metadata: values['no-metadata'] ? false : true,
        signal: controller.signal,
        onRowStart: report.rowStart,
        onRowEvent: report.rowEvent,
        onRowResult: report.rowResult,
      });
      return await report.end(results, outputDir, controller.signal.aborted);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } finally {
    await workflow.cleanup?.();
  }
}

function maxCostOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const usd = Number(value.replace(/^\$/, ''));
  if (!Number.isFinite(usd) || usd < 0) throw new UsageError(`--max-cost must be an amount in USD such as 12.50, got "${value}"`);
  return usd;
}

function printDryRun(prepared: PreparedRow[], json: boolean): number {
  const estimate = estimateOf(prepared);
  if (json) {
    const rows = prepared.map(({ row, jobs, usd, invalid }) => ({ row: row.id, inputs: row.values, jobs, usd, ...(invalid ? { invalid } : {}) }));
    process.stdout.write(`${JSON.stringify({ type: 'batch_dry_run', data: { rows, estimate } })}\n`);
    return 0;
  }
  const lines = ['Dry run: nothing was submitted.', ''];
  for (const { row, jobs, usd, invalid } of prepared) {
    const what = invalid ? `invalid: ${invalid}` : jobs.length === 0 ? 'cached, no job' : `${jobs.length} job${jobs.length > 1 ? 's' : ''} ${jobs.map((job) => `${job.provider} ${job.model} ${job.duration}s`).join(', ')}: $${usd.toFixed(2)}`;
    lines.push(`  ${row.id}  ${Object.entries(row.values).map(([k, v]) => `${k}=${String(v)}`).join(' ')}  → ${what}`);
  }
  lines.push('', `Rows: ${estimate.rows} (${estimate.invalid} invalid). Provider jobs that would be created: ${estimate.jobs}. Estimated total: $${estimate.usd.toFixed(2)} (estimates; see docs/prices.md)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** NDJSON events on stdout when not on a terminal (or --json); a live line on stderr on a terminal. */
export function batchReporter(prepared: PreparedRow[], json: boolean) {
  const costs = new Map(prepared.map((entry) => [entry.row.id, entry.cost]));
  const progress = new BatchProgress(prepared.length, (row) => costs.get(row) ?? 0);
  const emit = (type: string, data: unknown) => process.stdout.write(`${JSON.stringify({ type, data })}\n`);
  let timer: NodeJS.Timeout | undefined;
  const draw = () => process.stderr.write(`\r\x1b[K${formatCounts(progress.counts())}`);
  return {
    progress,
    begin(estimate: ReturnType<typeof estimateOf>) {
      if (json) emit('batch_start', estimate);
      else {
        process.stderr.write(`Batch: ${estimate.rows} rows, ${estimate.jobs} new provider jobs, estimated $${estimate.usd.toFixed(2)}\n`);
        timer = setInterval(draw, 500);
      }
    },
    rowStart: (row: string) => {
      progress.start(row);
      if (json) emit('row_start', { row });
    },
    rowEvent: (row: string, event: Parameters<BatchProgress['event']>[1]) => progress.event(row, event),
    rowResult: (result: RowResult) => {
      progress.finish(result);
      if (json) {
        emit('row_end', result);
        emit('batch_progress', progress.counts());
      } else if (result.status !== 'done') process.stderr.write(`\r\x1b[K✗ ${result.row}: ${result.reason ?? result.status}\n`);
    },
    async end(results: RowResult[], outputDir: string, interrupted: boolean): Promise<number> {
      if (timer) clearInterval(timer);
      const manifest = await writeManifest(outputDir, results);
      const counts = progress.counts();
      const cpu = process.cpuUsage();
      if (json) emit('batch_end', { ...counts, manifest, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      else process.stderr.write(`\r\x1b[K${formatCounts(counts)}\nManifest: ${manifest.jsonl} and ${manifest.csv}\n`);
      if (interrupted) return 130;
      return counts.failed > 0 || results.length < prepared.length ? 1 : 0;
    },
  };
}

interface RedisBatch {
  redisUrl: string;
  workflowPath: string;
  inputsPath: string;
  document: unknown;
  outputDir: string;
  json: boolean;
  values: BatchValues;
}

/** `batch --redis`: the rows go on the queue; `reelgraph worker` processes run them; this follows and writes the manifest. */
async function enqueueBatch(prepared: PreparedRow[], batch: RedisBatch): Promise<number> {
  const { connect, batchIdFor } = await import('../../worker/queue.js');
  const { enqueueAndFollow } = await import('../../worker/enqueue.js');
  connect(batch.redisUrl).disconnect(); // The URL is checked before anything is queued.
  const controller = new AbortController();
  // Ctrl-C stops following; the rows stay queued and a re-run re-joins them.
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const report = batchReporter(prepared, batch.json);
  report.begin(estimateOf(prepared));
  try {
    const results = await enqueueAndFollow(prepared, {
      connection: () => connect(batch.redisUrl),
      batchId: batchIdFor(batch.workflowPath, batch.inputsPath, batch.outputDir),
      workflow: { path: batch.workflowPath, document: batch.document },
      outputDir: batch.outputDir,
      publicUrl: batch.values['public-url'],
      listen: batch.values.listen,
      metadata: batch.values['no-metadata'] ? false : true,
      signal: controller.signal,
      onResult: (result) => report.rowResult(result),
      onTick: ({ active }) => report.progress.setRemoteRunning(active),
    });
    return await report.end(results, batch.outputDir, controller.signal.aborted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
