import { setMaxListeners } from 'node:events';
import { MANY_LISTENERS } from '../../app/run.js';
import { resolve } from 'node:path';
import { parse, positiveInt, requirePositional, UsageError } from '../args.js';
import { loadWorkflow } from '../load.js';
import { providerOption } from './dry-run.js';
import { readRows } from '../../batch/rows.js';
import { estimateOf, prepareRows, rowPreparer, type BatchEstimate, type PreparedRow } from '../../batch/prepare.js';
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
    const prepareOptions = {
      outputDir,
      env: process.env,
      cache: values['no-cache'] ? undefined : new OutputCache(defaultCacheDir()),
      prices: await loadPrices(values.prices),
      journal,
    };
    const json = values.json === true || !process.stderr.isTTY;
    // The Redis URL is checked before anything is checked or queued.
    if (values.redis) (await import('../../worker/queue.js')).connect(values.redis).disconnect();
    const report = batchReporter(rows.length, json);
    let toRun: AsyncIterable<PreparedRow> | PreparedRow[];
    if (values['dry-run'] || maxCost !== undefined) {
      // The whole estimate first: nothing is sent when it is above the limit.
      const prepared = await prepareRows(workflow.parsed, registry, rows, prepareOptions);
      if (values['dry-run']) return printDryRun(prepared, values.json === true);
      const estimate = estimateOf(prepared);
      if (maxCost !== undefined && estimate.usd > maxCost) {
        process.stderr.write(
          `The batch would create ${estimate.jobs} provider jobs estimated at $${estimate.usd.toFixed(2)}, above --max-cost $${maxCost.toFixed(2)}; nothing was submitted.\n`,
        );
        return 2;
      }
      report.begin(estimate);
      toRun = report.priced(prepared);
    } else {
      // Without a limit, the first rows start while the later ones are still checked (each before it spends).
      toRun = report.priced(rowPreparer(workflow.parsed, registry, rows, prepareOptions));
      report.begin();
    }
    if (values.redis) return await enqueueBatch(toRun, rows.length, report, { redisUrl: values.redis, workflowPath: workflow.path, inputsPath: resolve(values.inputs), document: workflow.parsed.ui ?? workflow.parsed.api, outputDir, values });
    const controller = new AbortController();
    // Every running row listens on this one signal.
    setMaxListeners(MANY_LISTENERS, controller.signal);
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new CancelledError('Interrupted by Ctrl-C'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const results = await runBatchInProcess(toRun, {
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
export function batchReporter(total: number, json: boolean) {
  const costs = new Map<string, number>();
  const progress = new BatchProgress(total, (row) => costs.get(row) ?? 0);
  const emit = (type: string, data: unknown) => process.stdout.write(`${JSON.stringify({ type, data })}\n`);
  let timer: NodeJS.Timeout | undefined;
  const draw = () => process.stderr.write(`\r\x1b[K${formatCounts(progress.counts())}`);
  return {
    progress,
    /** The estimate when every row was checked first (--max-cost); without it, the rows and, later, batch_estimate. */
    begin(estimate?: BatchEstimate) {
      if (json) emit('batch_start', estimate ?? { rows: total });
      else {
        process.stderr.write(
          estimate
            ? `Batch: ${estimate.rows} rows, ${estimate.jobs} new provider jobs, estimated $${estimate.usd.toFixed(2)}\n`
            : `Batch: ${total} rows; each is checked and priced before it starts (--max-cost checks them all first)\n`,
        );
        timer = setInterval(draw, 500);
      }
    },
    /** Passes the rows through as they are checked, keeping each one's price; says the whole estimate after the last. */
    async *priced(rows: Iterable<PreparedRow> | AsyncIterable<PreparedRow>): AsyncGenerator<PreparedRow> {
      const seen: PreparedRow[] = [];
      for await (const entry of rows) {
        costs.set(entry.row.id, entry.cost);
        // Without its bound workflow: a row that has run need not keep its copy of the graph until the last is checked.
        seen.push({ ...entry, bound: undefined });
        yield entry;
      }
      const estimate = estimateOf(seen);
      if (json) emit('batch_estimate', estimate);
      else process.stderr.write(`\r\x1b[KAll ${estimate.rows} rows checked: ${estimate.invalid} invalid, ${estimate.jobs} new provider jobs, estimated $${estimate.usd.toFixed(2)}\n`);
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
      return counts.failed > 0 || results.length < total ? 1 : 0;
    },
  };
}

interface RedisBatch {
  redisUrl: string;
  workflowPath: string;
  inputsPath: string;
  document: unknown;
  outputDir: string;
  values: BatchValues;
}

/** `batch --redis`: the rows go on the queue; `reelgraph worker` processes run them; this follows and writes the manifest. */
async function enqueueBatch(prepared: AsyncIterable<PreparedRow> | PreparedRow[], total: number, report: ReturnType<typeof batchReporter>, batch: RedisBatch): Promise<number> {
  const { connect, batchIdFor } = await import('../../worker/queue.js');
  const { enqueueAndFollow } = await import('../../worker/enqueue.js');
  const controller = new AbortController();
  // Ctrl-C stops following; the rows stay queued and a re-run re-joins them.
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const results = await enqueueAndFollow(prepared, total, {
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
