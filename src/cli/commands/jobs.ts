import { parse } from '../args.js';
import { UsageError } from '../args.js';
import { runCommand } from './run.js';
import { JobJournal, isOutcomeUnknown, type JobRecord } from '../../jobs/journal.js';
import { createHttpClient } from '../../http/client.js';
import { messageOf } from '../../engine/errors.js';
import { PROVIDERS } from '../../providers/catalog.js';
import { createProviderRegistry } from '../../providers/registry.js';
import type { ProviderId } from '../../providers/provider.js';

const USAGE = `reelgraph jobs [list] [--json]
  reelgraph jobs resume            re-run the workflows of unfinished jobs (re-attaches, never re-creates)
  reelgraph jobs cancel <id|key>   cancel a job at its provider
  reelgraph jobs forget <key>      drop a job from the journal so its request may be submitted again`;

/** `reelgraph jobs`: the provider jobs this user has paid for, from the job journal. */
export async function jobsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, USAGE);
  const [sub = 'list', target] = positionals;
  const journal = new JobJournal();
  switch (sub) {
    case 'list':
      return listJobs(journal, values.json === true);
    case 'resume':
      return resumeJobs(journal);
    case 'cancel':
      return cancelJob(journal, findJob(journal, requireTarget(target, 'a task id or job key')));
    case 'forget':
      return forgetJob(journal, findJob(journal, requireTarget(target, 'a job key')));
    default:
      throw new UsageError(`Unknown jobs command "${sub}".\nUsage: ${USAGE}`);
  }
}

function requireTarget(target: string | undefined, what: string): string {
  if (!target) throw new UsageError(`Missing ${what}.\nUsage: ${USAGE}`);
  return target;
}

/** A job by key, task id, or a unique key prefix of at least 6 characters. */
function findJob(journal: JobJournal, id: string): JobRecord {
  const jobs = journal.list();
  const exact = jobs.find((job) => job.jobKey === id || job.taskId === id);
  if (exact) return exact;
  const byPrefix = id.length >= 6 ? jobs.filter((job) => job.jobKey.startsWith(id)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  const why = byPrefix.length > 1 ? `matches ${byPrefix.length} jobs; give more characters` : `is not a job key or task id in ${journal.file}`;
  throw new UsageError(`"${id}" ${why}. Run "reelgraph jobs" for the list.`);
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function listJobs(journal: JobJournal, json: boolean): number {
  const jobs = journal.list();
  const now = Date.now();
  if (json) {
    for (const job of jobs) process.stdout.write(`${JSON.stringify({ ...job, ageMs: now - job.createdAt })}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    process.stderr.write(`No jobs in ${journal.file}.\n`);
    return 0;
  }
  const rows = jobs.map((job) => [job.jobKey, job.provider, job.taskId ?? noTask(job), job.state, age(now - job.createdAt), job.origin?.workflowPath ?? '']);
  const header = ['KEY', 'PROVIDER', 'TASK', 'STATE', 'AGE', 'WORKFLOW'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  const unknown = jobs.filter(isOutcomeUnknown);
  if (unknown.length > 0) {
    process.stderr.write(
      `${unknown.length} job(s) have no answer from the provider: they may exist and be billed. Check the provider dashboard, then "reelgraph jobs forget <key>".\n`,
    );
  }
  return 0;
}

/** What stands in for the task id: why there is none. */
function noTask(job: JobRecord): string {
  if (job.state === 'never-sent') return '(never sent)';
  if (job.state === 'refused' || job.state === 'rejected') return `(refused${job.status ? ` ${job.status}` : ''})`;
  return '(no answer)';
}

/** Unfinished = a task exists and its video was not saved yet. */
function isUnfinished(job: JobRecord): boolean {
  return job.state === 'submitted' || job.state === 'succeeded';
}

async function resumeJobs(journal: JobJournal): Promise<number> {
  const jobs = journal.list();
  for (const job of jobs.filter(isOutcomeUnknown)) {
    process.stderr.write(`Job ${job.jobKey} (${job.provider}) got no answer to its create, so it is not resumed: check the provider, then "reelgraph jobs forget ${job.jobKey}".\n`);
  }
  const groups = new Map<string, { path: string; args: string[] }>();
  for (const job of jobs.filter(isUnfinished)) {
    const path = job.origin?.workflowPath;
    if (!path) {
      process.stderr.write(`Job ${job.jobKey} (${job.provider} task ${job.taskId}) was not started from a workflow file; re-queue it where it was started.\n`);
      continue;
    }
    const options = job.origin?.options ?? {};
    const args = [path];
    if (options.outputDir) args.push('--output-dir', options.outputDir);
    if (options.inputDir) args.push('--input-dir', options.inputDir);
    if (options.publicUrl) args.push('--public-url', options.publicUrl);
    if (options.listen) args.push('--listen', options.listen);
    if (options.imageHost) args.push('--image-host', options.imageHost);
    if (options.imageFit) args.push('--image-fit', options.imageFit);
    groups.set(JSON.stringify(args), { path, args });
  }
  if (groups.size === 0) {
    process.stderr.write('No unfinished jobs to resume.\n');
    return 0;
  }
  let exitCode = 0;
  for (const { path, args } of groups.values()) {
    process.stderr.write(`Resuming ${path}\n`);
    const code = await runCommand(args).catch((error: unknown) => {
      process.stderr.write(`reelgraph: ${messageOf(error)}\n`);
      return 1;
    });
    if (code === 130) return 130;
    if (exitCode === 0) exitCode = code;
  }
  return exitCode;
}

async function cancelJob(journal: JobJournal, job: JobRecord): Promise<number> {
  if (!job.taskId) {
    process.stderr.write(`Job ${job.jobKey} has no task id (its create got no answer), so it cannot be cancelled from here: look for it in your ${job.provider} dashboard.\n`);
    return 1;
  }
  if (job.provider === 'cometapi') {
    await journal.recordCancel({ jobKey: job.jobKey }, 'unsupported');
    process.stderr.write(`CometAPI has no cancel endpoint, so task ${job.taskId} cannot be cancelled; it will run to completion (and be billed) at CometAPI.\n`);
    return 1;
  }
  const http = createHttpClient();
  try {
    const provider = createProviderRegistry({ env: process.env, http }).get(job.provider as ProviderId, job.baseUrl);
    const outcome = await provider.cancel(job.taskId, { signal: AbortSignal.timeout(30_000) });
    await journal.recordCancel({ jobKey: job.jobKey }, outcome);
    const name = PROVIDERS[job.provider as ProviderId]?.displayName ?? job.provider;
    if (outcome === 'cancelled') {
      process.stderr.write(`Cancelled ${name} task ${job.taskId}.\n`);
      return 0;
    }
    process.stderr.write(`${name} says task ${job.taskId} cannot be cancelled any more (${outcome}): it is already running or finished.\n`);
    return 1;
  } finally {
    await http.close();
  }
}

async function forgetJob(journal: JobJournal, job: JobRecord): Promise<number> {
  await journal.forget(job.jobKey);
  const what = job.taskId ? `${job.provider} task ${job.taskId}` : `${job.provider} job with no known task id`;
  process.stderr.write(`Forgot job ${job.jobKey} (${what}); the next run of its workflow will submit a new job.\n`);
  return 0;
}
