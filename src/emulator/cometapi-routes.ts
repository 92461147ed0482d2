import { acceptPromptImage } from './image-check.js';
import type { EmulatorState } from './http-util.js';
import { json, parseJson, unknownWordDue } from './http-util.js';
import type { JobState } from './jobs.js';
import { checkRunwayHeaders, runwayTaskObject } from './runway-routes.js';
import type { EmulatedJob, Reply, Route, RouteContext } from './types.js';
import { checkCreateBody } from './validate.js';

/**
 * CometAPI's Runway format (docs/providers.md §2 and §7): POST /runwayml/v1/image_to_video,
 * GET /runwayml/v1/tasks/{id} (task_not_exist first, then the wrapped envelope or the bare
 * Runway object), and POST /runway/feed. There is no cancel endpoint.
 */

function cometError(status: number, message: string, code: string, param = ''): Reply {
  return json(status, { error: { message, type: 'comet_api_error', param, code } });
}

const taskNotExist = (): Reply => json(400, { code: 'task_not_exist', message: 'task_not_exist', data: null });

const WRAPPED_STATUS: Record<JobState['phase'], string> = {
  queued: 'QUEUED',
  running: 'IN_PROGRESS',
  succeeded: 'SUCCESS',
  failed: 'FAILURE',
  cancelled: 'FAILURE',
};

async function create(state: EmulatorState, ctx: RouteContext): Promise<Reply> {
  const headers = checkRunwayHeaders(state, ctx, false);
  if (headers === 'unauthorized') return cometError(401, 'Invalid token', 'invalid_api_key');
  if (headers === 'version') return cometError(400, 'X-Runway-Version header is required', 'invalid_request', 'X-Runway-Version');
  const body = parseJson(ctx.body);
  if (body === undefined) return cometError(400, 'Request body is not valid JSON', 'invalid_request');
  const checked = checkCreateBody('cometapi', body);
  if (!checked.ok) {
    const first = checked.issues[0];
    const param = first?.path.join('.') ?? '';
    return cometError(400, `${param ? `${param}: ` : ''}${first?.message ?? 'invalid body'}`, 'invalid_request', param);
  }
  const image = await acceptPromptImage(checked.request.promptImage);
  if (!image.ok) return cometError(400, image.message, 'invalid_request', 'promptImage');
  const job = state.jobs.create('cometapi', checked.request, image.bytes);
  return { ...json(200, { id: job.id }), jobId: job.id };
}

/** One signed URL per job that lasts urlTtlMs from completion (CometAPI does not re-sign). */
function stableUrl(state: EmulatorState, ctx: RouteContext, job: EmulatedJob): string {
  return state.signer.sign(ctx.origin, job.id, state.jobs.state(job).finishedAt + state.options().urlTtlMs);
}

function envelope(state: EmulatorState, ctx: RouteContext, job: EmulatedJob, feed: boolean): Record<string, unknown> {
  const jobState = state.jobs.state(job);
  const url = () => stableUrl(state, ctx, job);
  const seconds = (ms: number) => (ms > 0 ? Math.floor(ms / 1000) : 0);
  const done = jobState.phase === 'succeeded';
  // CometAPI's own UNKNOWN word (providers.md §2 issue list), for clients that must not fail on it.
  const unknown = (jobState.phase === 'queued' || jobState.phase === 'running') && unknownWordDue(state, job.polls, state.options().cometNotExistPolls);
  const data: Record<string, unknown> = {
    task_id: job.id,
    action: 'IMAGE_TO_VIDEO',
    status: unknown ? 'UNKNOWN' : WRAPPED_STATUS[jobState.phase],
    fail_reason: jobState.phase === 'failed' ? `Generation failed upstream (${job.failureCode ?? 'INTERNAL'})` : jobState.phase === 'cancelled' ? 'cancelled' : '',
    submit_time: seconds(job.createdAt),
    start_time: seconds(jobState.startedAt),
    finish_time: seconds(jobState.finishedAt),
    progress: `${Math.round(jobState.progress * 100)}%`,
    ...(done ? { result_url: url() } : {}),
    ...(done && feed ? { video_url: url(), poster: '' } : {}),
    data: runwayTaskObject(state, job, url),
  };
  return { code: 'success', message: '', data };
}

function getTask(state: EmulatorState, ctx: RouteContext, id: string, feed: boolean): Reply {
  if (checkRunwayHeaders(state, ctx, false) === 'unauthorized') return cometError(401, 'Invalid token', 'invalid_api_key');
  const job = state.jobs.get(id);
  if (!job || job.provider !== 'cometapi') return taskNotExist();
  job.polls++;
  if (job.polls <= state.options().cometNotExistPolls) return { ...taskNotExist(), jobId: job.id };
  if (!feed && state.options().cometShape === 'bare') {
    const word = unknownWordDue(state, job.polls, state.options().cometNotExistPolls) ? 'UNKNOWN' : undefined;
    return { ...json(200, runwayTaskObject(state, job, () => stableUrl(state, ctx, job), word)), jobId: job.id };
  }
  return { ...json(200, envelope(state, ctx, job, feed)), jobId: job.id };
}

function feedTaskId(ctx: RouteContext): string {
  const body = parseJson(ctx.body);
  const id = typeof body === 'object' && body !== null ? (body as { task_id?: unknown }).task_id : undefined;
  return typeof id === 'string' ? id : '';
}

const methodNotAllowed = (): Promise<Reply> => Promise.resolve(cometError(405, 'Method not allowed', 'invalid_request'));

/** The route for a CometAPI path, or undefined if the path is not CometAPI's. */
export function cometApiRoute(state: EmulatorState, method: string, path: string): Route | undefined {
  if (path === '/runwayml/v1/image_to_video') {
    return { provider: 'cometapi', kind: 'create', handle: method === 'POST' ? (ctx) => create(state, ctx) : methodNotAllowed };
  }
  if (path === '/runway/feed') {
    return { provider: 'cometapi', kind: 'poll', handle: method === 'POST' ? async (ctx) => getTask(state, ctx, feedTaskId(ctx), true) : methodNotAllowed };
  }
  const task = /^\/runwayml\/v1\/tasks\/([^/]+)$/.exec(path);
  if (!task?.[1]) return undefined;
  const id = decodeURIComponent(task[1]);
  return { provider: 'cometapi', kind: 'poll', jobId: id, handle: method === 'GET' ? async (ctx) => getTask(state, ctx, id, false) : methodNotAllowed };
}
