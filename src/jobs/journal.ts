import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ProviderHttpError, ProviderTaskFailedError, SubmitOutcomeUnknownError, isCancellation, messageOf } from '../engine/errors.js';
import { isCreateNotProcessed, isFinalFailureCode } from '../http/retry.js';
import type { RetryNotice } from '../http/types.js';
import { HttpConnectionError } from '../http/client.js';
import type { SubmitRequest, SubmitResult } from '../providers/provider.js';
import type { JournalPort } from './port.js';

/**
 * The job journal: never pay twice, never lose a paid job.
 *
 * An append-only JSONL file per user. An `intent` line is fsynced BEFORE a create is sent
 * and a `submitted` line (with the provider's task id) as soon as the provider answers,
 * before any waiting starts. A re-run looks the job up by its key and re-attaches to the
 * task instead of creating (and paying for) a second one. Each create ends in exactly one of:
 * never sent ('never-sent'), refused by the provider ('refused', with the status), accepted
 * ('submitted', with the task id) or unknown ('unknown': it may have made a job we cannot see).
 * Only unknown (or an intent with no line after it: a crash mid-create) blocks a re-run until the
 * user checks and forgets the key. Lines never contain image bytes or keys.
 */

export type JobState = 'intent' | 'never-sent' | 'refused' | 'unknown' | 'submitted' | 'rejected' | 'succeeded' | 'failed' | 'cancelled' | 'saved';
/**
 * States after which a re-run may submit again: no job exists, the task will not produce a video,
 * or its video was already delivered ('saved'; reusing it is the output cache's job, and
 * --no-cache asks for a new one). 'rejected' is what older versions wrote for 'refused'.
 * A 'failed' job with a final failure code is dead but not re-bought (see submitOnce).
 */
const DEAD_STATES: ReadonlySet<JobState> = new Set(['never-sent', 'refused', 'rejected', 'failed', 'cancelled', 'saved']);
/** States in which no task exists or it will never deliver. */
const UNDELIVERABLE: ReadonlySet<JobState> = new Set(['never-sent', 'refused', 'rejected', 'failed', 'cancelled']);

/** Extra facts a state line may carry. */
export interface StateExtra {
  reason?: string;
  output?: string;
  /** The HTTP status of a refused create. */
  status?: number;
  /** The provider's failure code of a failed task (e.g. SAFETY.INPUT.IMAGE). */
  failureCode?: string;
}

/** The request as recorded: the image is summarised (a data URI would be megabytes). */
export type RequestSummary = Omit<SubmitRequest, 'model'> & {
  /** Any string: records from older versions may name models we no longer offer. */
  model: string;
};

/** Where a job came from, so `reelgraph jobs resume` can run the same workflow again. */
export interface JobOrigin {
  workflowPath?: string;
  nodeId?: string;
  options?: { inputDir?: string; outputDir?: string; publicUrl?: string; listen?: string; imageHost?: string; imageFit?: 'auto' | 'off' };
  /** The batch row this job belongs to (src/batch): two rows asking the same thing are still two jobs. */
  row?: string;
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
  | ({ type: 'state'; jobKey: string; state: JobState; at: number } & StateExtra)
  | { type: 'cancel'; jobKey: string; taskId?: string; outcome: string; at: number }
  | { type: 'forget'; jobKey: string; at: number };

/** Everything known about one job, folded from its lines. */
export interface JobRecord extends IntentInput, StateExtra {
  taskId?: string;
  state: JobState;
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
  return !UNDELIVERABLE.has(record.state);
}

/** Whether the job's create may have made a task we cannot see: re-runs are refused until it is forgotten. */
export function isOutcomeUnknown(record: JobRecord): boolean {
  return (record.state === 'intent' || record.state === 'unknown') && !record.taskId;
}

export class JobJournal implements JournalPort {
  readonly file: string;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byTask = new Map<string, string>();
  /** Bytes of the file already folded into `jobs`; other processes may append more. */
  private offset = 0;
  private partial = '';
  /** Lines waiting for the next write, and whether one is in progress. */
  private readonly waiting: PendingLine[] = [];
  private writing = false;

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

  async recordState(ref: JobRef, state: JobState, extra: StateExtra = {}): Promise<void> {
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

  /**
   * Appends a line; the promise resolves once it is on disk (fsynced), as before any create. Lines
   * asked for while a write is in progress go together in the next one (group commit): many rows
   * at once cost one fsync per group instead of one per line, and each line still waits for its own.
   */
  private append(line: JournalLine): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ text: `${JSON.stringify(line)}\n`, resolve, reject });
      if (!this.writing) void this.writeWaiting();
    });
  }

  private writeWaiting = async (): Promise<void> => {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const group = takeGroup(this.waiting);
        try {
          await this.writeLines(Buffer.from(group.map((entry) => entry.text).join('')));
          for (const entry of group) entry.resolve();
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  };

  /** One write (O_APPEND: whole lines, never interleaved with another process's), then fsync. */
  private async writeLines(bytes: Buffer): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.write(bytes);
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

interface PendingLine {
  text: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Lines for one write: all waiting, up to GROUP_CHARS (one line always goes, whatever its size).
 * A bounded write stays one append on every local filesystem, as a single line's write did.
 */
const GROUP_CHARS = 64 * 1024;

function takeGroup(waiting: PendingLine[]): PendingLine[] {
  let chars = 0;
  let count = 0;
  while (count < waiting.length && (count === 0 || chars + waiting[count]!.text.length <= GROUP_CHARS)) chars += waiting[count++]!.text.length;
  return waiting.splice(0, count);
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
    if (line.status !== undefined) job.status = line.status;
    if (line.failureCode !== undefined) job.failureCode = line.failureCode;
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
  row?: string;
}

export function jobKeyFor(identity: JobIdentity): string {
  const { promptImage: _image, ...request } = identity.request;
  const parts = [identity.provider, identity.baseUrl, identity.imageId, identity.nodeId ?? '', identity.workflowPath ?? '', canonical(request)];
  // Appended only for batch rows, so every key made before batches existed stays the same.
  if (identity.row !== undefined) parts.push(`row:${identity.row}`);
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

/** What submitOnce tells the create, so it knows how far the request got. */
export interface SubmitHooks {
  /** Called right before each attempt is sent. */
  onAttempt(): void;
  /** Called before each wait for a retry; a status means the provider answered (and refused). */
  onRetry(notice: RetryNotice): void;
}

export interface SubmitOnceInput extends JobIdentity {
  /** Sends the create; called at most once, and only if the journal knows no live job for the key. */
  submit(hooks: SubmitHooks): Promise<SubmitResult>;
  /** Buy again a job that failed with a code the provider documents as final (--retry-failed). */
  retryFailed?: boolean;
}

export interface SubmitOnceResult {
  taskId: string;
  /** True when an earlier run's task was re-attached instead of creating one. */
  reattached: boolean;
  jobKey: string;
}

/**
 * Submits through the journal: re-attaches to a live task with the same key, refuses when an
 * earlier create's outcome is unknown, reports again a known final failure, and otherwise
 * records intent → create → one of never-sent / refused / submitted / unknown.
 * @throws SubmitOutcomeUnknownError when a create (now or earlier) may have made a job we cannot see.
 * @throws ProviderTaskFailedError when the same job already failed with a final code.
 */
export async function submitOnce(journal: JournalPort, input: SubmitOnceInput): Promise<SubmitOnceResult> {
  const workflowPath = input.workflowPath ?? journal.origin?.workflowPath;
  const nodeId = input.nodeId ?? journal.origin?.nodeId;
  const row = input.row ?? journal.origin?.row;
  const jobKey = jobKeyFor({ ...input, workflowPath, nodeId, row });
  const existing = await journal.find(jobKey);
  if (existing && isLive(existing)) {
    if (existing.taskId) return { taskId: existing.taskId, reattached: true, jobKey };
    throw unknownOutcomeError(existing, 'An earlier run sent this create and got no answer');
  }
  if (existing?.state === 'failed' && existing.taskId && !input.retryFailed && isFinalFailureCode(existing.provider, existing.failureCode)) {
    throw new ProviderTaskFailedError(
      existing.provider,
      existing.taskId,
      `${existing.reason ?? 'failed'} — on an earlier run, with a code the provider documents as final, so it was not submitted again (change a parameter, or run with --retry-failed to pay for a new attempt)`,
      existing.failureCode,
    );
  }
  const origin: JobOrigin = { ...journal.origin, ...(workflowPath ? { workflowPath } : {}), ...(nodeId ? { nodeId } : {}), ...(row !== undefined ? { row } : {}) };
  const intent: IntentInput = { jobKey, provider: input.provider, model: input.request.model, baseUrl: input.baseUrl, request: summarizeRequest(input.request), origin };
  await journal.recordIntent(intent);
  // How far the create got: decides what an error means.
  let progress: 'not-sent' | 'in-flight' | 'refused' = 'not-sent';
  let refusedWith: number | undefined;
  const hooks: SubmitHooks = {
    onAttempt: () => (progress = 'in-flight'),
    onRetry: (notice) => {
      if (notice.status !== undefined) [progress, refusedWith] = ['refused', notice.status];
      else if (progress === 'in-flight') progress = 'not-sent'; // Retried only when provably not sent.
    },
  };
  let result: SubmitResult;
  try {
    result = await input.submit(hooks);
  } catch (error) {
    const outcome = classifyCreateError(error, input.provider, progress, refusedWith);
    if (outcome.state === 'unknown') {
      await journal.recordState({ jobKey }, 'unknown', { reason: messageOf(error) });
      if (isCancellation(error)) throw error;
      throw unknownOutcomeError({ ...intent, createdAt: Date.now() }, 'This create got no clear answer', error);
    }
    await journal.recordState({ jobKey }, outcome.state, { reason: messageOf(error), ...(outcome.status !== undefined ? { status: outcome.status } : {}) });
    throw error;
  }
  // The id first, before anything else happens: a paid task must never be lost.
  await journal.recordSubmitted(jobKey, result.taskId);
  return { taskId: result.taskId, reattached: false, jobKey };
}

/**
 * What a failed create means. Refused: the provider answered 4xx, or a status it documents as
 * "not processed" (429, Runway 502/503). Never sent: the connection failed before sending, or
 * an interrupt came before the request left or while waiting to retry a refusal. Anything else
 * (a drop after sending, 500/504, an unreadable 200, an interrupt mid-request) is unknown.
 */
function classifyCreateError(
  error: unknown,
  provider: string,
  progress: 'not-sent' | 'in-flight' | 'refused',
  refusedWith: number | undefined,
): { state: 'never-sent' | 'refused' | 'unknown'; status?: number } {
  if (error instanceof ProviderHttpError && error.status >= 400) {
    if (error.status < 500 || isCreateNotProcessed(error.status, provider)) return { state: 'refused', status: error.status };
    return { state: 'unknown' };
  }
  // Recognised by class: the client throws HttpConnectionError only when the request never left.
  if (error instanceof HttpConnectionError) return { state: 'never-sent' };
  if (isCancellation(error)) {
    if (progress === 'not-sent') return { state: 'never-sent' };
    if (progress === 'refused') return { state: 'refused', ...(refusedWith !== undefined ? { status: refusedWith } : {}) };
  }
  return { state: 'unknown' };
}
function unknownOutcomeError(job: Pick<JobRecord, 'jobKey' | 'provider' | 'model' | 'createdAt'>, what: string, cause?: unknown): SubmitOutcomeUnknownError {
  const when = new Date(job.createdAt).toISOString();
  const why = cause instanceof Error ? ` (${cause.message.replace(/\.$/, '')})` : '';
  return new SubmitOutcomeUnknownError(
    `${what}${why}, so a ${job.provider} ${job.model} job may exist and be billed: check your ${job.provider} dashboard for a job created around ${when}, then run "reelgraph jobs forget ${job.jobKey}" to allow a new submit.`,
    { cause },
  );
}
