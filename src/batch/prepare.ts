import { planDryRun, type DryRunJob } from '../app/dry-run.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import type { OutputCache } from '../engine/cache.js';
import { formatIssue, InputError } from '../engine/errors.js';
import type { NodeRegistry } from '../engine/registry.js';
import type { JournalPort } from '../jobs/port.js';
import type { PriceTable } from '../providers/prices.js';
import { bindRow, resolveColumns } from './bind.js';
import type { BatchRow } from './rows.js';

/**
 * Each row bound, validated and planned before it spends anything: the dry run, --max-cost and the
 * manifest's cost column all come from the same per-row plan (src/app/dry-run.ts).
 */

export interface PreparedRow {
  row: BatchRow;
  bound?: ParsedWorkflow;
  /** Why the row cannot run (a bad value in its inputs); it is reported, the others still run. */
  invalid?: string;
  /** Provider jobs a run of this row would create now (cached rows create none). */
  jobs: DryRunJob[];
  /** Estimated USD of the jobs it would create now. */
  usd: number;
  /** Estimated USD of the row's jobs, cached or not: its price in the manifest. */
  cost: number;
}

export interface PrepareOptions {
  outputDir: string;
  env?: NodeJS.ProcessEnv;
  cache?: OutputCache;
  prices?: PriceTable;
  journal?: JournalPort;
}

/** Every row prepared, in order, before the first is run: for --dry-run and --max-cost, which need the whole estimate. */
export async function prepareRows(parsed: ParsedWorkflow, registry: NodeRegistry, rows: BatchRow[], options: PrepareOptions): Promise<PreparedRow[]> {
  const prepared: PreparedRow[] = [];
  for await (const entry of rowPreparer(parsed, registry, rows, options)) prepared.push(entry);
  return prepared;
}

/**
 * The rows prepared one by one, in order, as they are asked for: a batch without --max-cost starts its first rows
 * while later ones are still being checked (1,000 rows took ~3 s to check before the first could start). The
 * columns are resolved at once, so an unknown node or widget still stops the batch before anything is sent.
 * @throws InputError for a column that names no node or widget.
 */
export function rowPreparer(parsed: ParsedWorkflow, registry: NodeRegistry, rows: BatchRow[], options: PrepareOptions): AsyncGenerator<PreparedRow> {
  const targets = resolveColumns(parsed, registry, rows);
  return (async function* () {
    for (const row of rows) yield await prepareRow(parsed, registry, row, targets, options);
  })();
}

async function prepareRow(parsed: ParsedWorkflow, registry: NodeRegistry, row: BatchRow, targets: ReturnType<typeof resolveColumns>, options: PrepareOptions): Promise<PreparedRow> {
  let bound: ParsedWorkflow;
  try {
    bound = bindRow(parsed, registry, row, targets);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { row, invalid: error.message, jobs: [], usd: 0, cost: 0 };
  }
  const files = { inputDir: row.inputDir, outputDir: options.outputDir };
  const common = { files, env: options.env, prices: options.prices, cacheCheck: { services: { journal: options.journal } } };
  const plan = await planDryRun(bound, registry, { ...common, cache: options.cache });
  if (!plan.ok) return { row, bound, invalid: plan.validation.issues.map(formatIssue).join('; '), jobs: [], usd: 0, cost: 0 };
  // The row's full price, as if nothing were cached (only when part of it is).
  const full = plan.nodes.some((node) => node.action === 'cached') ? await planDryRun(bound, registry, common) : plan;
  return { row, bound, jobs: plan.jobs, usd: plan.totalUsd, cost: full.totalUsd };
}

export interface BatchEstimate {
  rows: number;
  invalid: number;
  jobs: number;
  usd: number;
}

export function estimateOf(prepared: PreparedRow[]): BatchEstimate {
  return {
    rows: prepared.length,
    invalid: prepared.filter((entry) => entry.invalid).length,
    jobs: prepared.reduce((sum, entry) => sum + entry.jobs.length, 0),
    usd: Math.round(prepared.reduce((sum, entry) => sum + entry.usd, 0) * 10000) / 10000,
  };
}
