import type { ModelId, ProviderId } from '../providers/provider.js';
import type { OutputCache } from '../engine/cache.js';
import { findCacheHits, nodesToRun, outputNodes } from '../engine/cache-plan.js';
import type { CacheCheckContext, FilesContext, PlannedJob } from '../engine/define-node.js';
import { formatIssue, type Issue } from '../engine/errors.js';
import { checkParams } from '../engine/param-issues.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import { computeCacheKeys } from '../engine/cache-key.js';
import { planGraph } from '../engine/plan.js';
import { DEFAULT_PRICES, priceJob, type PriceTable } from '../providers/prices.js';
import type { NodeRegistry } from '../engine/registry.js';
import { upstreamOf, validateGraph, type ValidationResult } from '../engine/validate.js';
import { consumerIndex } from '../engine/graph-queries.js';

/**
 * `run --dry-run`: everything a run would decide before spending, and nothing else.
 * Validates, computes cache keys, looks the cache up, and prices the provider jobs that
 * would be created. No node runs, no provider is called.
 */

export interface DryRunOptions {
  files: FilesContext;
  env?: NodeJS.ProcessEnv;
  /** The output cache a real run would use; without one every node would run. */
  cache?: OutputCache;
  prices?: PriceTable;
  /** What a real run's cache check would consult (the job journal). */
  cacheCheck?: CacheCheckContext;
}

export interface DryRunJob {
  nodeId: string;
  provider: ProviderId;
  model: ModelId;
  duration: number;
  ratio: string;
  usd?: number;
  credits?: number;
}

/** A job the run would not create because it already exists (its price is what a new submit would cost). */
export interface DryRunExistingJob extends DryRunJob {
  /** 'reattach': at the provider, followed at no cost; 'unknown': the run refuses to submit until the user decides. */
  status: 'reattach' | 'unknown';
  jobKey?: string;
  taskId?: string;
  /** When the create whose outcome is unknown was sent (ms since the epoch). */
  since?: number;
}

export interface DryRunTotal {
  provider: ProviderId;
  jobs: number;
  seconds: number;
  usd: number;
  credits?: number;
  /** Where the price comes from, and whether it is an assumption. */
  source: string;
  assumed: boolean;
}

export interface DryRunPlan {
  ok: boolean;
  validation: ValidationResult;
  /** What must be fixed before a real run (a missing key), though the plan could be made. */
  warnings: Issue[];
  /** Every node in execution order and what the run would do with it. */
  nodes: { id: string; type: string; action: 'run' | 'cached' | 'unused' }[];
  /** The paid jobs the run would create. */
  jobs: DryRunJob[];
  /** Jobs the run would not create: re-attached at no cost, or blocked by an unknown outcome (not in the totals). */
  existing: DryRunExistingJob[];
  totals: DryRunTotal[];
  totalUsd: number;
}

/**
 * Problems that stop a real run but not a look at what it would do and cost: someone opening a
 * shared workflow may not have that provider's key yet.
 */
const SETUP_ONLY = new Set(['missing_api_key']);

export async function planDryRun(parsed: ParsedWorkflow, registry: NodeRegistry, options: DryRunOptions): Promise<DryRunPlan> {
  const validation = await validateGraph(parsed.graph, registry, { files: options.files, env: options.env ?? process.env });
  const warnings = validation.issues.filter((issue) => SETUP_ONLY.has(issue.type));
  if (warnings.length < validation.issues.length) return { ok: false, validation, warnings: [], nodes: [], jobs: [], existing: [], totals: [], totalUsd: 0 };
  const graph = parsed.graph;
  const order = planGraph(graph).order;
  const params = new Map(order.map((id) => [id, checkParams(graph.nodes.get(id)!, registry.get(graph.nodes.get(id)!.type)!).params ?? {}]));
  const { keys, volatile } = await computeCacheKeys(graph, registry, order, params, options.files);
  const defOf = (id: string) => registry.get(graph.nodes.get(id)!.type)!;
  const hits = await findCacheHits({ order, defOf, keys, volatile, cache: options.cache, check: options.cacheCheck });
  const toRun = nodesToRun(graph, hits, outputNodes(graph, registry));
  const nodes = order.map((id) => ({ id, type: graph.nodes.get(id)!.type, action: hits.has(id) ? ('cached' as const) : toRun.has(id) ? ('run' as const) : ('unused' as const) }));
  const prices = options.prices ?? DEFAULT_PRICES;
  const consumers = consumerIndex(graph);
  // A cached node still counts when a node that runs uses its outputs: a cached task handle is a job the run follows.
  const used = (id: string) => toRun.has(id) || (hits.has(id) && (consumers.get(id) ?? []).some((consumer) => toRun.has(consumer.id)));
  const planned: (DryRunJob | DryRunExistingJob)[] = [];
  for (const id of order.filter(used)) {
    const def = defOf(id);
    if (!def.plannedJobs) continue;
    const ctx = {
      nodeId: id,
      files: options.files,
      env: options.env ?? process.env,
      upstream: upstreamOf(graph, graph.nodes.get(id)!, (other) => params.get(other)),
      ...options.cacheCheck,
      ...(hits.has(id) ? { cached: hits.get(id)! } : {}),
    };
    for (const job of await def.plannedJobs(params.get(id)!, ctx)) planned.push(jobOf(id, job, prices));
  }
  const jobs = planned.filter((job): job is DryRunJob => !('status' in job));
  const existing = planned.filter((job): job is DryRunExistingJob => 'status' in job);
  const totals = totalsOf(jobs, prices);
  const totalUsd = round(totals.reduce((sum, total) => sum + total.usd, 0));
  return { ok: true, validation, warnings, nodes, jobs, existing, totals, totalUsd };
}

function jobOf(nodeId: string, planned: PlannedJob, prices: PriceTable): DryRunJob | DryRunExistingJob {
  const provider = planned.provider as ProviderId;
  const model = planned.model as ModelId;
  const duration = planned.durationSeconds;
  const job: DryRunJob = { nodeId, provider, model, duration, ratio: planned.ratio ?? '' };
  const price = priceJob(prices, provider, model, duration);
  if (price) Object.assign(job, price);
  if (!planned.existing) return job;
  const { status, jobKey, taskId, since } = planned.existing;
  return { ...job, status, ...(jobKey ? { jobKey } : {}), ...(taskId ? { taskId } : {}), ...(since !== undefined ? { since } : {}) };
}

function totalsOf(jobs: DryRunJob[], prices: PriceTable): DryRunTotal[] {
  const byProvider = new Map<ProviderId, DryRunTotal>();
  for (const job of jobs) {
    const { source, assumed } = prices[job.provider];
    const total = byProvider.get(job.provider) ?? { provider: job.provider, jobs: 0, seconds: 0, usd: 0, source, assumed };
    total.jobs++;
    total.seconds += job.duration;
    total.usd = round(total.usd + (job.usd ?? 0));
    if (job.credits !== undefined) total.credits = (total.credits ?? 0) + job.credits;
    byProvider.set(job.provider, total);
  }
  return [...byProvider.values()];
}

function round(usd: number): number {
  return Math.round(usd * 10000) / 10000;
}

/** The plan as the CLI prints it. */
export function formatDryRun(plan: DryRunPlan): string {
  const lines = ['Dry run: nothing was submitted.', ''];
  for (const node of plan.nodes) lines.push(`  ${node.action === 'run' ? 'would run' : node.action === 'cached' ? 'cached   ' : 'unused   '}  #${node.id} ${node.type}`);
  lines.push('', plan.jobs.length === 0 ? 'No provider jobs would be created.' : `Provider jobs that would be created: ${plan.jobs.length}`);
  for (const job of plan.jobs) {
    const cost = job.usd === undefined ? 'no price known' : `$${job.usd.toFixed(2)}${job.credits !== undefined ? ` (${job.credits} credits)` : ''}`;
    lines.push(`  #${job.nodeId} ${job.provider} ${job.model} ${job.duration}s ${job.ratio}: ${cost}`);
  }
  for (const job of plan.existing) {
    const what = `#${job.nodeId} ${job.provider} ${job.model} ${job.duration}s ${job.ratio}`;
    if (job.status === 'reattach') lines.push(`  ${what}: re-attaches to task ${job.taskId ?? '(cached)'} at the provider, $0.00`);
    else lines.push(`  ${what}: outcome unknown — will not submit until you decide (check the ${job.provider} dashboard, then "reelgraph jobs forget ${job.jobKey}")`);
  }
  for (const total of plan.totals) {
    const credits = total.credits !== undefined ? `, ${total.credits} credits` : '';
    lines.push(`Estimate for ${total.provider}: $${total.usd.toFixed(2)}${credits} for ${total.seconds}s of video${total.assumed ? ' (assumed price)' : ''}; ${total.source}`);
  }
  if (plan.jobs.length > 0) lines.push(`Estimated total: $${plan.totalUsd.toFixed(2)} (estimates; override with --prices FILE or REELGRAPH_PRICES, see docs/prices.md)`);
  if (plan.warnings.length > 0) lines.push('', 'Before a real run:', ...plan.warnings.map((issue) => `  ${formatIssue(issue)}`));
  return lines.join('\n');
}
