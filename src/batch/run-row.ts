import type { ParsedWorkflow } from '../comfy/index.js';
import type { RunEvent } from '../engine/events.js';
import type { Logger } from '../engine/define-node.js';
import type { HttpClient } from '../http/types.js';
import type { JournalPort } from '../jobs/port.js';
import { withOrigin } from '../jobs/port.js';
import { runWorkflow, type RunResult } from '../app/run.js';
import { formatIssue } from '../engine/errors.js';
import { describeRow, type BatchRow } from './rows.js';

/**
 * One row, run in this process: the CLI's batch and a queue worker both call this. The row's id
 * goes into the journal's origin, so its job key is its own even when another row asks the same.
 */

export type RowStatus = 'done' | 'failed' | 'invalid' | 'interrupted';

/** One line of the manifest. */
export interface RowResult {
  row: string;
  index: number;
  inputs: string;
  status: RowStatus;
  reason?: string;
  video?: string;
  jobId?: string;
  provider?: string;
  /** Estimated USD of the row's provider jobs (docs/prices.md), whether paid now or by an earlier run. */
  cost?: number;
  seconds: number;
  /** A failure that another attempt may fix without paying twice (a 429 on the create, a create claimed by another worker). */
  retry?: boolean;
}

export interface RowRunOptions {
  workflowPath: string;
  outputDir: string;
  journal: JournalPort;
  /** As runWorkflow takes it: false for none, a folder, or true for the user's. */
  cache?: boolean | string;
  http: HttpClient;
  env?: NodeJS.ProcessEnv;
  publicUrl?: string;
  listen?: string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  metadata?: boolean;
  log?: Logger;
}

export async function runRow(bound: ParsedWorkflow, row: BatchRow, cost: number | undefined, options: RowRunOptions): Promise<RowResult> {
  const startedAt = Date.now();
  const { workflowPath, outputDir, publicUrl, listen } = options;
  const journal = withOrigin(options.journal, { workflowPath, row: row.id, options: { inputDir: row.inputDir, outputDir, publicUrl, listen } });
  const base = { row: row.id, index: row.index, inputs: describeRow(row), ...(cost !== undefined ? { cost } : {}) };
  let result: RunResult;
  try {
    result = await runWorkflow(bound, {
      promptId: `row:${row.id}`,
      inputDir: row.inputDir,
      outputDir,
      publicUrl,
      listen,
      env: options.env,
      http: options.http,
      journal,
      cache: options.cache,
      signal: options.signal,
      onEvent: options.onEvent,
      workflowPath,
      metadata: options.metadata,
      log: options.log,
    });
  } catch (error) {
    return { ...base, status: 'failed', reason: (error as Error).message, seconds: secondsSince(startedAt) };
  }
  const seconds = secondsSince(startedAt);
  if (result.status === 'invalid') return { ...base, status: 'invalid', reason: result.validation.issues.map(formatIssue).join('; '), seconds };
  const found = findOutputs(result.outputs);
  if (result.status === 'success') return { ...base, status: 'done', ...found, seconds };
  const status = result.status === 'interrupted' ? 'interrupted' : 'failed';
  return { ...base, status, reason: result.error?.message ?? status, ...found, seconds, ...(worthRetrying(result.error) ? { retry: true } : {}) };
}

function worthRetrying(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause.name === 'JobClaimedError') return true;
    if ('status' in cause && cause.status === 429) return true;
  }
  return false;
}

/** The provider task and the saved video, from the node outputs (cached ones included). */
function findOutputs(outputs: Record<string, Record<string, unknown>>): Pick<RowResult, 'video' | 'jobId' | 'provider'> {
  const found: Pick<RowResult, 'video' | 'jobId' | 'provider'> = {};
  for (const values of Object.values(outputs)) {
    const task = values.TASK as { taskId?: unknown; provider?: unknown } | undefined;
    if (task && typeof task.taskId === 'string') {
      found.jobId = task.taskId;
      if (typeof task.provider === 'string') found.provider = task.provider;
    }
    const files = values.files as { path?: unknown }[] | undefined;
    if (Array.isArray(files) && typeof files[0]?.path === 'string') found.video = files[0].path;
  }
  return found;
}

function secondsSince(startedAt: number): number {
  return Math.round((Date.now() - startedAt) / 100) / 10;
}
