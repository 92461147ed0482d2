import { UsageError } from '../args.js';
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

/** `run --dry-run`: validate, show what would run and what it would cost; submit nothing. Exit 0, or 2 when invalid. */
export async function dryRun(workflow: LoadedWorkflow, options: { files: FilesContext; cache: boolean; prices?: string; json: boolean }): Promise<number> {
  const plan = await planDryRun(workflow.parsed, createNodeRegistry(), {
    files: options.files,
    env: process.env,
    cache: options.cache ? new OutputCache(defaultCacheDir()) : undefined,
    prices: await loadPrices(options.prices),
    cacheCheck: { services: { journal: new JobJournal(defaultStateDir()) } },
  });
  if (!plan.ok) {
    printValidation(plan.validation, options.json);
    return 2;
  }
  const { nodes, jobs, totals, totalUsd, warnings } = plan;
  if (options.json) process.stdout.write(`${JSON.stringify({ type: 'dry_run', data: { nodes, jobs, totals, totalUsd, warnings } })}\n`);
  else process.stdout.write(`${formatDryRun(plan)}\n`);
  return 0;
}

/** The --provider value ComfyUI Runway nodes are mapped to. */
export function providerOption(value: string | undefined): ProviderId | undefined {
  if (value === undefined) return undefined;
  if (!(PROVIDER_IDS as string[]).includes(value)) throw new UsageError(`--provider must be one of ${PROVIDER_IDS.join(', ')}, got "${value}"`);
  return value as ProviderId;
}
