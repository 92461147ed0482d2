import { z } from 'zod';
import { PROVIDERS, RUNWAY_API_VERSION } from './catalog.js';
import { ProviderBase } from './base.js';
import type { ReadResponse } from './requests.js';
import { uploadEphemeral, type UploadFile } from './runway-uploads.js';
import { describeBody, isRecord, parseOrThrow, providerError, requireVideo } from './requests.js';
import type { CallOptions, CancelOutcome, ProviderConfig, SubmitRequest, SubmitResult, TaskStatus, VideoProvider } from './provider.js';

/**
 * Runway's own API. Docs: https://docs.dev.runwayml.com/api (image_to_video, tasks),
 * https://docs.dev.runwayml.com/api-details/errors. Wire details: docs/providers.md §3.
 */

/** A create answer needs only its id: anything else (e.g. `estimatedCost: null`) must not lose a paid task. */
const CreateResponseSchema = z.object({ id: z.string().min(1) });
const EstimatedCostSchema = z.object({ estimatedCost: z.object({ credits: z.coerce.number() }) });

/**
 * A Runway task object; CometAPI's bare shape and its wrapped `data.data` are the same object.
 * `status` is any word: a new one (e.g. QUEUED_FOR_REVIEW) is shown and polling goes on.
 */
export const RunwayTaskSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  progress: z.union([z.number(), z.string()]).nullish(),
  output: z.array(z.string()).nullish(),
  failure: z.string().nullish(),
  failureCode: z.string().nullish(),
});
export type RunwayTask = z.infer<typeof RunwayTaskSchema>;

const ErrorBodySchema = z.object({
  error: z.string(),
  issues: z.array(z.object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])).optional() })).optional(),
});

/** Runway's status words to ours: the one place they are interpreted. */
export function mapRunwayTask(task: RunwayTask): TaskStatus {
  switch (task.status) {
    case 'PENDING':
      return { state: 'queued' };
    case 'THROTTLED':
      return { state: 'queued', throttled: true };
    case 'RUNNING': {
      const progress = toFraction(task.progress);
      return progress === undefined ? { state: 'running' } : { state: 'running', progress };
    }
    case 'SUCCEEDED':
      return { state: 'succeeded', videoUrls: task.output ?? [] };
    case 'FAILED':
      return { state: 'failed', reason: task.failure || 'Runway reported the task as failed', ...(task.failureCode ? { failureCode: task.failureCode } : {}) };
    case 'CANCELLED':
      return { state: 'cancelled' };
    default:
      return { state: 'unknown', word: task.status };
  }
}

/** Progress as a 0..1 fraction from 0.37, "0.37" or "37%". */
export function toFraction(progress: number | string | null | undefined): number | undefined {
  if (progress === null || progress === undefined || progress === '') return undefined;
  const text = String(progress).trim();
  const value = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (!Number.isFinite(value)) return undefined;
  return Math.min(1, Math.max(0, value > 1 ? value / 100 : value));
}

/** Runway's `{error, issues}` as one readable message. */
export function runwayErrorMessage(body: unknown): string {
  const parsed = ErrorBodySchema.safeParse(body);
  if (!parsed.success) return isRecord(body) && typeof body.message === 'string' ? body.message : describeBody(body);
  const issues = parsed.data.issues?.map((issue) => `${issue.path?.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`) ?? [];
  return issues.length > 0 ? `${parsed.data.error} (${issues.join('; ')})` : parsed.data.error;
}

/**
 * Runway's image_to_video body. CometAPI forwards this format and also takes `watermark`,
 * which Runway's own API does not document, so only `{ watermark: true }` sends it.
 */
export function runwayFormatBody(request: SubmitRequest, options: { watermark: boolean }): Record<string, unknown> {
  return {
    model: request.model,
    promptImage: request.promptImage,
    ratio: request.ratio,
    duration: request.duration,
    ...(request.promptText ? { promptText: request.promptText } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(options.watermark && request.watermark !== undefined ? { watermark: request.watermark } : {}),
  };
}

export class RunwayProvider extends ProviderBase implements VideoProvider {
  constructor(config: ProviderConfig) {
    super(PROVIDERS.runway, config, { 'X-Runway-Version': RUNWAY_API_VERSION });
  }

  async submit(request: SubmitRequest, options: CallOptions = {}): Promise<SubmitResult> {
    const body = runwayFormatBody(request, { watermark: false });
    const res = await this.send('POST', '/v1/image_to_video', options, 'create', JSON.stringify(body));
    const created = parseOrThrow(this.call, CreateResponseSchema, this.ok(res), 'create');
    // Optional extras are read only after the id is safe, and never fail the create.
    const cost = EstimatedCostSchema.safeParse(res.body);
    return { taskId: created.id, ...(cost.success ? { estimatedCredits: cost.data.estimatedCost.credits } : {}) };
  }

  async getTask(taskId: string, options: CallOptions = {}): Promise<TaskStatus> {
    const res = await this.send('GET', `/v1/tasks/${encodeURIComponent(taskId)}`, options, 'poll');
    return requireVideo(this.call, mapRunwayTask(parseOrThrow(this.call, RunwayTaskSchema, this.ok(res), 'task')), res);
  }

  /** DELETE cancels an active task (and deletes a finished one); Runway answers 204. */
  async cancel(taskId: string, options: CallOptions = {}): Promise<CancelOutcome> {
    const res = await this.send('DELETE', `/v1/tasks/${encodeURIComponent(taskId)}`, options, 'poll');
    this.ok(res);
    return 'cancelled';
  }

  /** An ephemeral upload (docs/providers.md §3): for local images over the 5 MB data-URI limit. */
  upload(file: UploadFile, options: CallOptions = {}): Promise<string> {
    return uploadEphemeral(this.call, this.config.baseUrl, file, options.signal);
  }

  private ok(res: ReadResponse): ReadResponse {
    if (res.status >= 200 && res.status < 300) return res;
    throw providerError(this.call, res.status, runwayErrorMessage(res.body), res.body);
  }
}
