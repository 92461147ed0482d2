import { z } from 'zod';
import { PROVIDERS } from './catalog.js';
import { ProviderBase } from './base.js';
import type { ReadResponse } from './requests.js';
import { describeBody, isRecord, parseOrThrow, providerError, requireVideo } from './requests.js';
import type { CallOptions, CancelOutcome, ModelId, ProviderConfig, SubmitRequest, SubmitResult, TaskStatus, VideoProvider } from './provider.js';

/**
 * RunComfy Model API (async queue). Docs: https://docs.runcomfy.com/model-apis/async-queue-endpoints,
 * https://docs.runcomfy.com/model-apis/error-codes. Some RunComfy APIs report errors with HTTP 200 and
 * a top-level error_code (per the official MCP client), so every body is checked for one. See docs/providers.md §1.
 */

const MODEL_PATHS: Record<ModelId, string> = {
  gen4_turbo: 'runwayml/runway-gen-4/turbo/image-to-video',
  gen3a_turbo: 'runwayml/runway-gen-3-alpha/turbo/image-to-video',
};

/** Error codes that mean the token is wrong, expired or lacks permission. */
const AUTH_CODES = new Set([400004, 401001, 403001]);

const CreateResponseSchema = z.object({ request_id: z.string().min(1) });
/** Only the status word is needed; queue_position may come as a number or a string ("3"), or be junk. */
const StatusResponseSchema = z.object({ status: z.string(), queue_position: z.unknown().optional() });

function queuePositionOf(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
const ResultResponseSchema = z.object({ status: z.string().optional(), output: z.unknown().optional(), error: z.unknown().optional() });

type Phase = { state: 'queued' | 'running' | 'cancelled' } | { state: 'finished' | 'failed' };

/** RunComfy's status words to ours: the one place they are interpreted. */
function mapStatus(status: string): Phase | undefined {
  switch (status.toLowerCase()) {
    case 'in_queue':
      return { state: 'queued' };
    case 'in_progress':
      return { state: 'running' };
    case 'completed':
    case 'succeeded':
      return { state: 'finished' };
    case 'failed':
      return { state: 'failed' };
    case 'cancelled':
    case 'canceled':
      return { state: 'cancelled' };
    default:
      return undefined;
  }
}

/** Video URLs anywhere under url/video/videos keys (the official CLI walks outputs the same way). */
export function findVideoUrls(output: unknown, underVideoKey = false): string[] {
  if (typeof output === 'string') return underVideoKey && /^https?:\/\//.test(output) ? [output] : [];
  if (Array.isArray(output)) return output.flatMap((item) => findVideoUrls(item, underVideoKey));
  if (!isRecord(output)) return [];
  return Object.entries(output).flatMap(([key, value]) => findVideoUrls(value, underVideoKey || ['url', 'video', 'videos'].includes(key)));
}

function errorText(error: unknown): string {
  if (typeof error === 'string' && error) return error;
  if (isRecord(error)) {
    const text = error.error_message ?? error.message ?? error.detail;
    if (typeof text === 'string' && text) return text;
  }
  return error === undefined || error === null ? 'RunComfy reported the request as failed' : describeBody(error);
}

export class RunComfyProvider extends ProviderBase implements VideoProvider {
  constructor(config: ProviderConfig) {
    super(PROVIDERS.runcomfy, config);
  }

  async submit(request: SubmitRequest, options: CallOptions = {}): Promise<SubmitResult> {
    const body = {
      promptImage: request.promptImage,
      ratio: request.ratio,
      duration: request.duration,
      ...(request.promptText ? { promptText: request.promptText } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
    };
    const res = await this.send('POST', `/v1/models/${MODEL_PATHS[request.model]}`, options, 'create', JSON.stringify(body));
    return { taskId: parseOrThrow(this.call, CreateResponseSchema, this.ok(res), 'create').request_id };
  }

  async getTask(taskId: string, options: CallOptions = {}): Promise<TaskStatus> {
    const res = await this.send('GET', `${this.requestPath(taskId)}/status`, options, 'poll');
    const status = parseOrThrow(this.call, StatusResponseSchema, this.ok(res), 'status');
    const phase = mapStatus(status.status);
    if (!phase) return { state: 'unknown', word: status.status };
    const position = queuePositionOf(status.queue_position);
    if (phase.state === 'queued') return position !== undefined ? { state: 'queued', queuePosition: position } : { state: 'queued' };
    if (phase.state === 'running' || phase.state === 'cancelled') return { state: phase.state };
    return this.getResult(taskId, options);
  }

  /** POST cancel answers 2xx either way; `outcome` says whether it took effect. */
  async cancel(taskId: string, options: CallOptions = {}): Promise<CancelOutcome> {
    const res = await this.send('POST', `${this.requestPath(taskId)}/cancel`, options, 'poll', '{}');
    const body = parseOrThrow(this.call, z.object({ outcome: z.string().optional(), status: z.string().optional() }), this.ok(res), 'cancel');
    if (body.outcome === 'cancelled' || (body.outcome === undefined && body.status !== undefined && mapStatus(body.status)?.state === 'cancelled')) return 'cancelled';
    return 'not_cancellable';
  }

  private async getResult(taskId: string, options: CallOptions): Promise<TaskStatus> {
    const res = await this.send('GET', `${this.requestPath(taskId)}/result`, options, 'poll');
    const result = parseOrThrow(this.call, ResultResponseSchema, this.ok(res), 'result');
    const phase = result.status ? mapStatus(result.status) : undefined;
    if (phase?.state === 'failed' || (result.error != null && findVideoUrls(result.output).length === 0)) {
      return { state: 'failed', reason: errorText(result.error) };
    }
    return requireVideo(this.call, { state: 'succeeded', videoUrls: findVideoUrls(result.output) }, res);
  }

  private requestPath(taskId: string): string {
    return `/v1/requests/${encodeURIComponent(taskId)}`;
  }

  /** Non-2xx, or any body with an error_code (even under HTTP 200), becomes our error. */
  private ok(res: ReadResponse): ReadResponse {
    // error_code may be a number or a numeric string.
    const code = isRecord(res.body) && res.body.error_code != null ? Number(res.body.error_code) : undefined;
    if (res.status >= 200 && res.status < 300 && code === undefined) return res;
    const status = res.status >= 300 ? res.status : statusFromCode(code);
    const message = isRecord(res.body) ? errorText(res.body) : describeBody(res.body);
    const withCode = code !== undefined ? `${message} (error_code ${code})` : message;
    throw providerError(this.call, status, withCode, res.body, code !== undefined && AUTH_CODES.has(code), code);
  }
}

/** 422001 → 422, 400004 → 400: the code's first three digits are its HTTP class. */
function statusFromCode(code: number | undefined): number {
  const status = code !== undefined ? Math.floor(code / 1000) : 500;
  return status >= 400 && status < 600 ? status : 500;
}
