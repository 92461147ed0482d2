import { UsageError } from '../args.js';
import { RuntimeError } from '../../engine/errors.js';
import type { LoadedWorkflow } from '../load.js';
import { printValidation } from './validate.js';
import { createNodeRegistry } from '../../nodes/index.js';
import { PROVIDER_IDS } from '../../providers/catalog.js';
import type { ProviderId } from '../../providers/provider.js';
import { OutputCache, defaultCacheDir } from '../../engine/cache.js';
import type { FilesContext } from '../../engine/define-node.js';
import { formatDryRun, planDryRun } from '../../app/dry-run.js';
import { loadPrices } from '../../providers/prices.js';
import { JobJournal, defaultStateDir } from '../../jobs/journal.js';

/** The spending limit refused the run. Exit 2: nothing was submitted. */
export class SpendingLimitError extends RuntimeError {
  override name = 'SpendingLimitError';
  override exitCode = 2;
}

/** `--max-cost USD` or REELGRAPH_MAX_COST, as a number of dollars; undefined when neither is set. */
export function maxCostOption(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const raw = flag ?? (env.REELGRAPH_MAX_COST || undefined);
  if (raw === undefined) return undefined;
  const usd = Number(raw);
  if (!Number.isFinite(usd) || usd < 0) throw new UsageError(`--max-cost (or REELGRAPH_MAX_COST) must be a number of US dollars, got "${raw}"`);
  return usd;
}

function planOf(workflow: LoadedWorkflow, options: { files: FilesContext; cache: boolean; prices?: string }) {
  return loadPrices(options.prices).then((prices) =>
    planDryRun(workflow.parsed, createNodeRegistry(), {
      files: options.files,
      env: process.env,
      cache: options.cache ? new OutputCache(defaultCacheDir()) : undefined,
      prices,
      // The run records its workflow's path in every job key: the same origin finds the same jobs.
      cacheCheck: { services: { journal: new JobJournal(defaultStateDir(), { workflowPath: workflow.path }) } },
    }),
  );
}

/**
 * Refuses before the first create when the dry-run estimate (cache hits are free) exceeds the limit.
 * An invalid workflow is left for the run to report.
 */
export async function enforceMaxCost(workflow: LoadedWorkflow, maxUsd: number, options: { files: FilesContext; cache: boolean; prices?: string }): Promise<void> {
  const estimate = await planOf(workflow, options);
  if (!estimate.ok || estimate.totalUsd <= maxUsd) return;
  throw new SpendingLimitError(
    `The estimated cost $${estimate.totalUsd.toFixed(2)} for ${estimate.jobs.length} paid job${estimate.jobs.length === 1 ? '' : 's'} exceeds the limit of $${maxUsd.toFixed(2)} (--max-cost or REELGRAPH_MAX_COST); nothing was submitted.`,
  );
}

/** `run --dry-run`: validate, show what would run and what it would cost; submit nothing. Exit 0, or 2 when invalid. */
export async function dryRun(workflow: LoadedWorkflow, options: { files: FilesContext; cache: boolean; prices?: string; json: boolean }): Promise<number> {
  const plan = await planOf(workflow, options);
  if (!plan.ok) {
    printValidation(plan.validation, options.json);
    return 2;
  }
  const { nodes, jobs, existing, totals, totalUsd, warnings } = plan;
  if (options.json) process.stdout.write(`${JSON.stringify({ type: 'dry_run', data: { nodes, jobs, existing, totals, totalUsd, warnings } })}\n`);
  else process.stdout.write(`${formatDryRun(plan)}\n`);
  return 0;
}

/** The --provider value ComfyUI Runway nodes are mapped to. */
export function providerOption(value: string | undefined): ProviderId | undefined {
  if (value === undefined) return undefined;
  if (!(PROVIDER_IDS as string[]).includes(value)) throw new UsageError(`--provider must be one of ${PROVIDER_IDS.join(', ')}, got "${value}"`);
  return value as ProviderId;
}
