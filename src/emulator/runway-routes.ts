import { RUNWAY_FAILURES, RUNWAY_VERSION_EXAMPLE } from './limits.js';
import { acceptPromptImage } from './image-check.js';
import type { EmulatorState } from './http-util.js';
import { json, keyAccepted, num, parseJson, unknownWordDue } from './http-util.js';
import type { EmulatedJob, Reply, Route, RouteContext } from './types.js';
import { checkCreateBody } from './validate.js';
import { UPLOAD_MAX_BYTES, createUpload, receiveUpload } from './runway-uploads.js';
import { checkImage } from './image-check.js';

/**
 * Runway's own API (docs/providers.md §3 and §7): POST /v1/image_to_video, GET and DELETE
 * /v1/tasks/{id}, GET /v1/organization. Output URLs are re-signed on every GET.
 */

const DOC_URL = 'https://docs.dev.runwayml.com/api';
const CREDITS_PER_SECOND = 5;

function runwayError(status: number, error: string, extra: Record<string, unknown> = {}): Reply {
  return json(status, { error, ...extra, docUrl: DOC_URL });
}

/** Key and version header checks every Runway-format endpoint makes (CometAPI's too). */
export function checkRunwayHeaders(state: EmulatorState, ctx: RouteContext, runwayKeys: boolean): string | undefined {
  if (!keyAccepted(ctx.req, state.options(), runwayKeys)) return 'unauthorized';
  if (!ctx.req.headers['x-runway-version']) return 'version';
  return undefined;
}

/** The Runway task object for a job; CometAPI embeds the same object. */
export function runwayTaskObject(state: EmulatorState, job: EmulatedJob, videoUrl: () => string, unknownWord?: string): Record<string, unknown> {
  const { phase, progress, throttled } = state.jobs.state(job);
  const credits = { credits: num(state, CREDITS_PER_SECOND * job.request.duration) };
  const base = { id: job.id, createdAt: new Date(job.createdAt).toISOString() };
  // A status word a client written today does not know (Runway may add e.g. QUEUED_FOR_REVIEW).
  if (unknownWord && (phase === 'queued' || phase === 'running')) return { ...base, status: unknownWord, estimatedCost: credits };
  switch (phase) {
    case 'queued':
      // Only Runway jobs are ever throttled, so CometAPI's embedded task never says THROTTLED.
      return { ...base, status: throttled ? 'THROTTLED' : 'PENDING', estimatedCost: credits };
    case 'running':
      return { ...base, status: 'RUNNING', progress: num(state, progress), estimatedCost: credits };
    case 'succeeded':
      return { ...base, status: 'SUCCEEDED', output: [videoUrl()], cost: credits };
    case 'failed': {
      const failureCode = job.failureCode ?? 'INTERNAL.BAD_OUTPUT';
      return { ...base, status: 'FAILED', failure: RUNWAY_FAILURES[failureCode] ?? 'The task failed.', failureCode, cost: credits };
    }
    case 'cancelled':
      return { ...base, status: 'CANCELLED', cost: credits };
  }
}

async function create(state: EmulatorState, ctx: RouteContext): Promise<Reply> {
  const headers = checkRunwayHeaders(state, ctx, true);
  if (headers === 'unauthorized') return runwayError(401, 'Invalid API key. Make sure the key is correct and has not been disabled.');
  if (headers === 'version') return runwayError(400, `The X-Runway-Version header is required; use ${RUNWAY_VERSION_EXAMPLE}.`);
  const body = parseJson(ctx.body);
  if (body === undefined) return runwayError(400, 'Request body is not valid JSON.');
  const checked = checkCreateBody('runway', body);
  if (!checked.ok) return runwayError(400, 'Validation of body failed', { issues: checked.issues });
  const image = checked.request.promptImage.startsWith('runway://') ? await acceptUpload(state, checked.request.promptImage) : await acceptPromptImage(checked.request.promptImage);
  if (!image.ok) return runwayError(400, image.message, { issues: [{ code: 'custom', message: image.message, path: ['promptImage'] }] });
  const job = state.jobs.create('runway', checked.request, image.bytes);
  const estimatedCost = state.options().nullEstimatedCost ? null : { credits: num(state, CREDITS_PER_SECOND * job.request.duration) };
  return { ...json(200, { id: job.id, estimatedCost }), jobId: job.id };
}

/** An uploaded promptImage: known, complete and alive, and within the image limits (up to 200 MB). */
async function acceptUpload(state: EmulatorState, uri: string): Promise<{ ok: true; bytes: Buffer } | { ok: false; message: string }> {
  const upload = state.uploads.resolve(uri);
  if (!upload.ok) return upload;
  const problem = await checkImage(upload.bytes, UPLOAD_MAX_BYTES);
  return problem ? { ok: false, message: problem } : upload;
}

async function uploads(state: EmulatorState, ctx: RouteContext): Promise<Reply> {
  const headers = checkRunwayHeaders(state, ctx, true);
  if (headers === 'unauthorized') return runwayError(401, 'Invalid API key. Make sure the key is correct and has not been disabled.');
  if (headers === 'version') return runwayError(400, `The X-Runway-Version header is required; use ${RUNWAY_VERSION_EXAMPLE}.`);
  const body = parseJson(ctx.body);
  if (body === undefined) return runwayError(400, 'Request body is not valid JSON.');
  return createUpload(state, ctx, body);
}

function findTask(state: EmulatorState, id: string): EmulatedJob | undefined {
  const job = state.jobs.get(id);
  return job && job.provider === 'runway' && !job.deleted ? job : undefined;
}

function getTask(state: EmulatorState, ctx: RouteContext, id: string): Reply {
  if (checkRunwayHeaders(state, ctx, true) === 'unauthorized') return runwayError(401, 'Invalid API key.');
  const job = findTask(state, id);
  if (!job) return json(404, { error: 'Could not find Task' });
  job.polls++;
  // Every GET hands out a freshly signed URL, as Runway's CloudFront links are.
  const url = () => state.signer.sign(ctx.origin, job.id, state.options().now() + state.options().urlTtlMs);
  return { ...json(200, runwayTaskObject(state, job, url, unknownWordDue(state, job.polls) ? 'QUEUED_FOR_REVIEW' : undefined)), jobId: job.id };
}

function deleteTask(state: EmulatorState, ctx: RouteContext, id: string): Reply {
  if (checkRunwayHeaders(state, ctx, true) === 'unauthorized') return runwayError(401, 'Invalid API key.');
  const job = findTask(state, id);
  if (!job) return json(404, { error: 'Could not find Task' });
  state.jobs.cancel(job);
  job.deleted = true;
  return { status: 204, jobId: job.id };
}

function organization(state: EmulatorState, ctx: RouteContext): Reply {
  if (checkRunwayHeaders(state, ctx, true) === 'unauthorized') return runwayError(401, 'Invalid API key.');
  const limits = { maxConcurrentGenerations: state.options().runwayMaxConcurrent || 2, maxDailyGenerations: 200 };
  return json(200, { creditBalance: 10_000, tier: { maxMonthlyCreditSpend: 10_000, models: { gen4_turbo: limits } }, usage: { models: { gen4_turbo: { dailyGenerations: state.jobs.list().length } } } });
}

const methodNotAllowed = (): Promise<Reply> => Promise.resolve(runwayError(405, 'Method not allowed.'));

/** The route for a Runway path, or undefined if the path is not Runway's. */
export function runwayRoute(state: EmulatorState, method: string, path: string): Route | undefined {
  if (path === '/v1/image_to_video') {
    return { provider: 'runway', kind: 'create', handle: method === 'POST' ? (ctx) => create(state, ctx) : methodNotAllowed };
  }
  if (path === '/v1/uploads') {
    return { provider: 'runway', kind: 'other', handle: method === 'POST' ? (ctx) => uploads(state, ctx) : methodNotAllowed };
  }
  const form = /^\/_uploads\/([0-9a-f-]{36})$/.exec(path);
  if (form) {
    const id = form[1]!;
    return { provider: 'runway', kind: 'other', maxBodyBytes: UPLOAD_MAX_BYTES + 1024 * 1024, handle: method === 'POST' ? (ctx) => receiveUpload(state, ctx, id) : methodNotAllowed };
  }
  if (path === '/v1/organization') {
    return { provider: 'runway', kind: 'other', handle: method === 'GET' ? async (ctx) => organization(state, ctx) : methodNotAllowed };
  }
  const task = /^\/v1\/tasks\/([^/]+)$/.exec(path);
  if (!task?.[1]) return undefined;
  const id = decodeURIComponent(task[1]);
  if (method === 'GET') return { provider: 'runway', kind: 'poll', jobId: id, handle: async (ctx) => getTask(state, ctx, id) };
  if (method === 'DELETE') return { provider: 'runway', kind: 'cancel', jobId: id, handle: async (ctx) => deleteTask(state, ctx, id) };
  return { provider: 'runway', kind: 'other', jobId: id, handle: methodNotAllowed };
}
