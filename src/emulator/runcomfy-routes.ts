import type { EmulatedModel } from './limits.js';
import { acceptPromptImage } from './image-check.js';
import type { EmulatorState } from './http-util.js';
import { json, keyAccepted, num, parseJson, unknownWordDue } from './http-util.js';
import { RUNWAY_FAILURES } from './limits.js';
import type { JobState } from './jobs.js';
import type { EmulatedJob, Reply, Route, RouteContext } from './types.js';
import { checkCreateBody } from './validate.js';

/**
 * RunComfy's Model API queue (docs/providers.md §1 and §7): POST /v1/models/{model_id...},
 * GET /v1/requests/{id}/status and /result, POST /v1/requests/{id}/cancel. Errors carry a
 * 6-digit error_code and, with runcomfyErrorsAs200, arrive under HTTP 200 as some RunComfy APIs do.
 */

const MODELS: Record<string, EmulatedModel> = {
  'runwayml/runway-gen-4/turbo/image-to-video': 'gen4_turbo',
  'runwayml/runway-gen-3-alpha/turbo/image-to-video': 'gen3a_turbo',
};

const STATUS: Record<JobState['phase'], string> = {
  queued: 'in_queue',
  running: 'in_progress',
  succeeded: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

function runcomfyError(state: EmulatorState, status: number, code: number, message: string, detail?: unknown): Reply {
  const body = { error_code: code, error_message: message, ...(detail !== undefined ? { detail } : {}) };
  return json(state.options().runcomfyErrorsAs200 ? 200 : status, body);
}

async function create(state: EmulatorState, ctx: RouteContext, modelPath: string): Promise<Reply> {
  if (!keyAccepted(ctx.req, state.options())) return runcomfyError(state, 401, 400004, 'Invalid or expired API token.');
  const model = MODELS[modelPath];
  if (!model) return runcomfyError(state, 404, 400001, `Unknown model_id ${modelPath}.`);
  const body = parseJson(ctx.body);
  const checked = checkCreateBody('runcomfy', body ?? {}, model);
  if (!checked.ok) {
    const detail = checked.issues.map((issue) => ({ loc: ['body', ...issue.path], msg: issue.message, type: issue.code }));
    return runcomfyError(state, 422, 422001, `Input validation failed: ${detail.map((d) => `${d.loc.slice(1).join('.')}: ${d.msg}`).join('; ')}`, detail);
  }
  // The Model API fetches public URLs only; data URIs are a Serverless-API feature.
  if (!/^https?:\/\//i.test(checked.request.promptImage)) {
    const msg = 'promptImage must be a publicly reachable http(s) URL';
    return runcomfyError(state, 422, 422001, msg, [{ loc: ['body', 'promptImage'], msg, type: 'url_type' }]);
  }
  const image = await acceptPromptImage(checked.request.promptImage);
  if (!image.ok) return runcomfyError(state, 422, 422001, image.message, [{ loc: ['body', 'promptImage'], msg: image.message, type: 'value_error' }]);
  const job = state.jobs.create('runcomfy', checked.request, image.bytes);
  const base = `${ctx.origin}/v1/requests/${job.id}`;
  return { ...json(200, { request_id: job.id, status_url: `${base}/status`, result_url: `${base}/result`, cancel_url: `${base}/cancel` }), jobId: job.id };
}

function findJob(state: EmulatorState, ctx: RouteContext, id: string): EmulatedJob | Reply {
  if (!keyAccepted(ctx.req, state.options())) return runcomfyError(state, 401, 400004, 'Invalid or expired API token.');
  const job = state.jobs.get(id);
  if (!job) return runcomfyError(state, 404, 404001, `Request ${id} not found.`);
  if (job.provider !== 'runcomfy') return runcomfyError(state, 403, 403001, `Request ${id} belongs to another account.`);
  return job;
}

function status(state: EmulatorState, ctx: RouteContext, id: string): Reply {
  const job = findJob(state, ctx, id);
  if (!('provider' in job)) return job;
  job.polls++;
  const phase = state.jobs.state(job).phase;
  const base = `${ctx.origin}/v1/requests/${job.id}`;
  const unknown = (phase === 'queued' || phase === 'running') && unknownWordDue(state, job.polls);
  const body: Record<string, unknown> = { request_id: job.id, status: unknown ? 'preparing' : STATUS[phase], status_url: `${base}/status`, result_url: `${base}/result` };
  if (phase === 'queued' && !unknown) body.queue_position = num(state, state.jobs.queuePosition(job));
  if (phase === 'running') body.instance_id = `emulator-${job.id.slice(0, 8)}`;
  return { ...json(200, body), jobId: job.id };
}

function result(state: EmulatorState, ctx: RouteContext, id: string): Reply {
  const job = findJob(state, ctx, id);
  if (!('provider' in job)) return job;
  const jobState = state.jobs.state(job);
  const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
  const succeeded = jobState.phase === 'succeeded';
  const url = succeeded ? state.signer.sign(ctx.origin, job.id, jobState.finishedAt + state.options().urlTtlMs) : undefined;
  return {
    ...json(200, {
      request_id: job.id,
      status: STATUS[jobState.phase],
      output: url ? { video: url } : null,
      created_at: iso(job.createdAt),
      finished_at: iso(jobState.finishedAt),
      // The exact shape of a failed result's error is unconfirmed (providers.md §1): code and message.
      error: jobState.phase === 'failed' ? { error_code: 500001, error_message: `Video generation failed: ${RUNWAY_FAILURES[job.failureCode ?? ''] ?? 'upstream error'}` } : null,
    }),
    jobId: job.id,
  };
}

function cancel(state: EmulatorState, ctx: RouteContext, id: string): Reply {
  const job = findJob(state, ctx, id);
  if (!('provider' in job)) return job;
  // Only a job still in the queue can be cancelled; later it is "not_cancellable", still HTTP 200.
  const outcome = state.jobs.state(job).phase === 'queued' && state.jobs.cancel(job) ? 'cancelled' : 'not_cancellable';
  return { ...json(200, { request_id: job.id, status: STATUS[state.jobs.state(job).phase], outcome }), jobId: job.id };
}

/** The route for a RunComfy path, or undefined if the path is not RunComfy's. */
export function runComfyRoute(state: EmulatorState, method: string, path: string): Route | undefined {
  const notAllowed = async (): Promise<Reply> => runcomfyError(state, 405, 400001, 'Method not allowed.');
  const model = /^\/v1\/models\/(.+)$/.exec(path);
  if (model?.[1]) {
    const modelPath = decodeURIComponent(model[1]);
    return { provider: 'runcomfy', kind: 'create', handle: method === 'POST' ? (ctx) => create(state, ctx, modelPath) : notAllowed };
  }
  const request = /^\/v1\/requests\/([^/]+)\/(status|result|cancel)$/.exec(path);
  if (!request?.[1]) return undefined;
  const id = decodeURIComponent(request[1]);
  const action = request[2];
  if (action === 'cancel') return { provider: 'runcomfy', kind: 'cancel', jobId: id, handle: method === 'POST' ? async (ctx) => cancel(state, ctx, id) : notAllowed };
  const kind = action === 'status' ? 'poll' : 'result';
  return { provider: 'runcomfy', kind, jobId: id, handle: method === 'GET' ? async (ctx) => (action === 'status' ? status(state, ctx, id) : result(state, ctx, id)) : notAllowed };
}
