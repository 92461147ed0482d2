import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ProviderHttpError, SubmitOutcomeUnknownError, isCancellation } from '../engine/errors.js';
import { HttpConnectionError } from '../http/client.js';
import type { SubmitRequest, SubmitResult } from '../providers/provider.js';

/**
 * The job journal: never pay twice, never lose a paid job.
 *
 * An append-only JSONL file per user. An `intent` line is fsynced BEFORE a create is sent
 * and a `submitted` line (with the provider's task id) as soon as the provider answers,
 * before any waiting starts. A re-run looks the job up by its key and re-attaches to the
 * task instead of creating (and paying for) a second one. An intent with no answer means
 * the outcome is unknown: we refuse to resubmit until the user checks and forgets the key.
 * Lines never contain image bytes or keys.
 */

export type JobState = 'intent' | 'submitted' | 'rejected' | 'succeeded' | 'failed' | 'cancelled' | 'saved';
/**
 * States after which a re-run may submit again: the task will not produce a video, or its video
 * was already delivered ('saved'; reusing it is the output cache's job, and --no-cache asks for a new one).
 */
const DEAD_STATES: ReadonlySet<JobState> = new Set(['rejected', 'failed', 'cancelled', 'saved']);

/** The request as recorded: the image is summarised (a data URI would be megabytes). */
export type RequestSummary = Omit<SubmitRequest, 'model'> & {
  /** Any string: records from older versions may name models we no longer offer. */
  model: string;
};

/** Where a job came from, so `reelgraph jobs resume` can run the same workflow again. */
export interface JobOrigin {
  workflowPath?: string;
  nodeId?: string;
  options?: { inputDir?: string; outputDir?: string; publicUrl?: string; listen?: string };
}

export interface IntentInput {
  jobKey: string;
  provider: string;
  model: string;
  baseUrl: string;
  request: RequestSummary;
  origin?: JobOrigin;
}

export type JournalLine =
  | ({ type: 'intent'; at: number } & IntentInput)
  | { type: 'submitted'; jobKey: string; taskId: string; at: number }
  | { type: 'state'; jobKey: string; state: JobState; reason?: string; output?: string; at: number }
  | { type: 'cancel'; jobKey: string; taskId?: string; outcome: string; at: number }
  | { type: 'forget'; jobKey: string; at: number };

/** Everything known about one job, folded from its lines. */
export interface JobRecord extends IntentInput {
  taskId?: string;
  state: JobState;
  reason?: string;
  output?: string;
  createdAt: number;
  updatedAt: number;
  cancels: { outcome: string; at: number }[];
}

/** A job named by its key, or by the provider task it became. */
export type JobRef = { jobKey: string } | { provider: string; taskId: string };

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.REELGRAPH_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'reelgraph');
}

/** Whether a job may still yield a video (or already did), so it must be re-attached, not re-created. */
export function isLive(record: JobRecord): boolean {
  return !DEAD_STATES.has(record.state);
}

/** Whether the task can still give its video: a cached TASK handle for a dead task must not be reused. */
export function canDeliver(record: JobRecord): boolean {
  return record.state !== 'failed' && record.state !== 'cancelled' && record.state !== 'rejected';
}

export class JobJournal {
  readonly file: string;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byTask = new Map<string, string>();
  /** Bytes of the file already folded into `jobs`; other processes may append more. */
  private offset = 0;
  private partial = '';

  constructor(
    readonly dir: string = defaultStateDir(),
    /** Recorded in intents written through this instance (the run's workflow and options). */
    readonly origin?: JobOrigin,
  ) {
    this.file = join(dir, 'jobs.jsonl');
  }

  recordIntent(input: IntentInput): Promise<void> {
    const origin = input.origin ?? this.origin;
    return this.append({ type: 'intent', at: Date.now(), ...input, ...(origin ? { origin } : {}) });
  }

  recordSubmitted(jobKey: string, taskId: string): Promise<void> {
    return this.append({ type: 'submitted', jobKey, taskId, at: Date.now() });
  }

  async recordState(ref: JobRef, state: JobState, extra: { reason?: string; output?: string } = {}): Promise<void> {
    const jobKey = this.keyOf(ref);
    if (jobKey) await this.append({ type: 'state', jobKey, state, ...extra, at: Date.now() });
  }

  async recordCancel(ref: JobRef, outcome: string): Promise<void> {
    const jobKey = this.keyOf(ref);
    if (!jobKey) return;
    const taskId = 'taskId' in ref ? ref.taskId : this.find(jobKey)?.taskId;
    await this.append({ type: 'cancel', jobKey, ...(taskId ? { taskId } : {}), outcome, at: Date.now() });
  }

  /** Drops a job from the journal's view, so its key may be submitted again. */
  forget(jobKey: string): Promise<void> {
    return this.append({ type: 'forget', jobKey, at: Date.now() });
  }

  find(jobKey: string): JobRecord | undefined {
    this.refresh();
    return this.jobs.get(jobKey);
  }

  findByTask(provider: string, taskId: string): JobRecord | undefined {
    this.refresh();
    const key = this.byTask.get(`${provider}\u0000${taskId}`);
    return key === undefined ? undefined : this.jobs.get(key);
  }

  /** Every job not forgotten, oldest first. */
  list(): JobRecord[] {
    this.refresh();
    return [...this.jobs.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  private keyOf(ref: JobRef): string | undefined {
    return 'jobKey' in ref ? ref.jobKey : this.findByTask(ref.provider, ref.taskId)?.jobKey;
  }

  /** One line per write, O_APPEND, fsynced before the promise resolves. */
  private async append(line: JournalLine): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Folds lines appended since the last read (by us or another process) into the job map. */
  private refresh(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const read = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const text = this.partial + buffer.subarray(0, read).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.apply(line);
    } finally {
      closeSync(fd);
    }
  }

  private apply(text: string): void {
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch {
      return; // A torn last line from a crash mid-write: the write was never acknowledged.
    }
    if (typeof line !== 'object' || line === null || typeof line.jobKey !== 'string') return;
    foldLine(this.jobs, line);
    const job = this.jobs.get(line.jobKey);
    if (job?.taskId) this.byTask.set(`${job.provider}\u0000${job.taskId}`, job.jobKey);
  }
}

function foldLine(jobs: Map<string, JobRecord>, line: JournalLine): void {
  if (line.type === 'intent') {
    const { type: _type, at, ...input } = line;
    jobs.set(line.jobKey, { ...input, state: 'intent', createdAt: at, updatedAt: at, cancels: [] });
    return;
  }
  if (line.type === 'forget') {
    jobs.delete(line.jobKey);
    return;
  }
  const job = jobs.get(line.jobKey);
  if (!job) return;
  job.updatedAt = line.at;
  if (line.type === 'submitted') {
    job.taskId = line.taskId;
    if (job.state === 'intent') job.state = 'submitted';
  } else if (line.type === 'state') {
    job.state = line.state;
    if (line.reason !== undefined) job.reason = line.reason;
    if (line.output !== undefined) job.output = line.output;
  } else if (line.type === 'cancel') {
    job.cancels.push({ outcome: line.outcome, at: line.at });
    if (line.outcome === 'cancelled') job.state = 'cancelled';
  }
}

/** What identifies one job: the same request from the same node of the same workflow is the same job. */
export interface JobIdentity {
  provider: string;
  baseUrl: string;
  request: SubmitRequest;
  /** The image's content hash or URL: promptImage itself may be a signed URL that changes every run. */
  imageId: string;
  nodeId?: string;
  workflowPath?: string;
}

export function jobKeyFor(identity: JobIdentity): string {
  const { promptImage: _image, ...request } = identity.request;
  const parts = [identity.provider, identity.baseUrl, identity.imageId, identity.nodeId ?? '', identity.workflowPath ?? '', canonical(request)];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}

function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(value).sort().map((key) => [key, value[key]]));
}

/** The request without image bytes: data URIs become their length, URLs lose their (signed) query. */
export function summarizeRequest(request: SubmitRequest): RequestSummary {
  const image = request.promptImage;
  let promptImage = image;
  if (image.startsWith('data:')) promptImage = `${image.slice(0, image.indexOf(',') + 1)}… (${image.length} characters)`;
  else if (image.includes('?')) promptImage = `${image.slice(0, image.indexOf('?'))}?…`;
  return { ...request, promptImage };
}

export interface SubmitOnceInput extends JobIdentity {
  /** Sends the create; called at most once, and only if the journal knows no live job for the key. */
  submit(): Promise<SubmitResult>;
}

export interface SubmitOnceResult {
  taskId: string;
  /** True when an earlier run's task was re-attached instead of creating one. */
  reattached: boolean;
  jobKey: string;
}

/**
 * Submits through the journal: re-attaches to a live task with the same key, refuses when an
 * earlier create's outcome is unknown, and otherwise records intent → create → submitted.
 * @throws SubmitOutcomeUnknownError when a create (now or earlier) may have made a job we cannot see.
 */
export async function submitOnce(journal: JobJournal, input: SubmitOnceInput): Promise<SubmitOnceResult> {
  const workflowPath = input.workflowPath ?? journal.origin?.workflowPath;
  const nodeId = input.nodeId ?? journal.origin?.nodeId;
  const jobKey = jobKeyFor({ ...input, workflowPath, nodeId });
  const existing = journal.find(jobKey);
  if (existing && isLive(existing)) {
    if (existing.taskId) return { taskId: existing.taskId, reattached: true, jobKey };
    throw unknownOutcomeError(existing, 'An earlier run sent this create and got no answer');
  }
  const origin: JobOrigin = { ...journal.origin, ...(workflowPath ? { workflowPath } : {}), ...(nodeId ? { nodeId } : {}) };
  const intent: IntentInput = { jobKey, provider: input.provider, model: input.request.model, baseUrl: input.baseUrl, request: summarizeRequest(input.request), origin };
  await journal.recordIntent(intent);
  let result: SubmitResult;
  try {
    result = await input.submit();
  } catch (error) {
    if (isRejection(error)) {
      await journal.recordState({ jobKey }, 'rejected', { reason: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    // Anything else (a drop after sending, a 5xx, an unreadable 200, an interrupt mid-create) may have made a job.
    if (isCancellation(error)) throw error;
    throw unknownOutcomeError({ ...intent, createdAt: Date.now() }, 'This create got no clear answer', error);
  }
  await journal.recordSubmitted(jobKey, result.taskId);
  return { taskId: result.taskId, reattached: false, jobKey };
}

/** The provider answered and said no (4xx), or the request never left (the client throws HttpConnectionError only then): no job exists. */
function isRejection(error: unknown): boolean {
  if (error instanceof ProviderHttpError) return error.status >= 400 && error.status < 500;
  return error instanceof HttpConnectionError;
}

function unknownOutcomeError(job: Pick<JobRecord, 'jobKey' | 'provider' | 'model' | 'createdAt'>, what: string, cause?: unknown): SubmitOutcomeUnknownError {
  const when = new Date(job.createdAt).toISOString();
  const why = cause instanceof Error ? ` (${cause.message.replace(/\.$/, '')})` : '';
  return new SubmitOutcomeUnknownError(
    `${what}${why}, so a ${job.provider} ${job.model} job may exist and be billed: check your ${job.provider} dashboard for a job created around ${when}, then run "reelgraph jobs forget ${job.jobKey}" to allow a new submit.`,
    { cause },
  );
}
