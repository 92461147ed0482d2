import { z } from 'zod';
import { PROVIDERS, RUNWAY_API_VERSION } from './catalog.js';
import { ProviderBase } from './base.js';
import type { ReadResponse } from './requests.js';
import { describeBody, isRecord, parseOrThrow, providerError, requireVideo } from './requests.js';
import type { CallOptions, CancelOutcome, ProviderConfig, SubmitRequest, SubmitResult, TaskStatus, VideoProvider } from './provider.js';
import { RunwayTaskSchema, mapRunwayTask, runwayFormatBody, toFraction } from './runway.js';

/**
 * CometAPI's Runway ("official") format. Docs:
 * https://apidoc.cometapi.com/api/video/runway/official-format/runway-images-raw-video and
 * .../runway-to-get-task-details. The task endpoint answers in two shapes (the English docs show a
 * wrapped envelope, the Japanese docs the bare Runway object), so both are accepted. See docs/providers.md §2.
 */

const CreateResponseSchema = z.object({ id: z.string().min(1) });

const WrappedTaskSchema = z.object({
  code: z.string(),
  message: z.string().nullish(),
  data: z.object({
    // Any word: new ones (CometAPI's UNKNOWN) are shown and polling goes on.
    status: z.string(),
    progress: z.union([z.string(), z.number()]).nullish(),
    fail_reason: z.string().nullish(),
    result_url: z.string().nullish(),
    video_url: z.string().nullish(),
    data: RunwayTaskSchema.partial().nullish(),
  }),
});
type WrappedTask = z.infer<typeof WrappedTaskSchema>;

const TaskResponseSchema = z.union([WrappedTaskSchema, RunwayTaskSchema]);

/** The wrapper's status words to ours (the bare shape goes through mapRunwayTask). */
function mapWrappedTask(wrapped: WrappedTask): TaskStatus {
  const data = wrapped.data;
  switch (data.status) {
    case 'NOT_START':
    case 'SUBMITTED':
    case 'QUEUED':
      return { state: 'queued' };
    case 'IN_PROGRESS': {
      const progress = toFraction(data.progress);
      return progress === undefined ? { state: 'running' } : { state: 'running', progress };
    }
    case 'SUCCESS':
      return { state: 'succeeded', videoUrls: wrappedUrls(wrapped) };
    case 'FAILURE': {
      const reason = data.fail_reason || data.data?.failure || 'CometAPI reported the task as failed';
      const failureCode = data.data?.failureCode;
      return { state: 'failed', reason, ...(failureCode ? { failureCode } : {}) };
    }
    default:
      return { state: 'unknown', word: data.status };
  }
}

/** Every place the wrapped shape may carry the video: result_url, video_url, or the Runway object's output. */
function wrappedUrls(wrapped: WrappedTask): string[] {
  const found = [wrapped.data.result_url, wrapped.data.video_url, ...(wrapped.data.data?.output ?? [])];
  return [...new Set(found.filter((url): url is string => typeof url === 'string' && url !== ''))];
}

function cometErrorMessage(body: unknown): string {
  if (isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string') {
    const code = typeof body.error.code === 'string' && body.error.code ? ` (${body.error.code})` : '';
    return `${body.error.message}${code}`;
  }
  if (isRecord(body) && typeof body.message === 'string' && body.message) return body.message;
  return describeBody(body);
}

/** CometAPI answers a freshly created id with HTTP 400 task_not_exist for "a few seconds"; Poll bounds that (catalog). */
function isTaskNotExist(res: ReadResponse): boolean {
  return res.status === 400 && isRecord(res.body) && res.body.code === 'task_not_exist';
}

export class CometApiProvider extends ProviderBase implements VideoProvider {
  constructor(config: ProviderConfig) {
    super(PROVIDERS.cometapi, config, { 'X-Runway-Version': RUNWAY_API_VERSION });
  }

  async submit(request: SubmitRequest, options: CallOptions = {}): Promise<SubmitResult> {
    const body = runwayFormatBody(request, { watermark: true });
    const res = await this.send('POST', '/runwayml/v1/image_to_video', options, 'create', JSON.stringify(body));
    return { taskId: parseOrThrow(this.call, CreateResponseSchema, this.ok(res), 'create').id };
  }

  async getTask(taskId: string, options: CallOptions = {}): Promise<TaskStatus> {
    const res = await this.send('GET', `/runwayml/v1/tasks/${encodeURIComponent(taskId)}`, options, 'poll');
    if (isTaskNotExist(res)) return { state: 'queued', notYetVisible: true };
    const parsed = parseOrThrow(this.call, TaskResponseSchema, this.ok(res), 'task');
    if (!('code' in parsed)) return requireVideo(this.call, mapRunwayTask(parsed), res);
    if (parsed.code !== 'success') throw providerError(this.call, res.status, parsed.message || parsed.code, res.body);
    return requireVideo(this.call, mapWrappedTask(parsed), res);
  }

  /** CometAPI documents no cancel endpoint for this format. */
  cancel(_taskId: string): Promise<CancelOutcome> {
    return Promise.resolve('unsupported');
  }

  private ok(res: ReadResponse): ReadResponse {
    if (res.status >= 200 && res.status < 300) return res;
    throw providerError(this.call, res.status, cometErrorMessage(res.body), res.body);
  }
}
