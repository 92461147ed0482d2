import { z } from 'zod';
import { ALL_RATIOS, PROVIDERS, retiredModelMessage } from '../providers/catalog.js';
import type { ProviderInfo, SubmitRequest } from '../providers/provider.js';
import { type PlanContext, type PlannedJob, type UpstreamNode, type ValidationContext } from '../engine/define-node.js';
import { defineNode, type NodeServices, type PackContext } from './services.js';
import { InputError, type Issue } from '../engine/errors.js';
import { canDeliver, isLive, jobKeyFor, submitOnce, type SubmitHooks } from '../jobs/journal.js';
import { baseUrlFor } from '../providers/registry.js';
import { imageIdentity } from './load-image.js';
import type { RetryNotice } from '../http/types.js';
import { deliverImage } from './image-delivery.js';
import { nodeIssue, quote } from './issues.js';
import { isRemoteUrl } from './paths.js';
import { ImageRefSchema, TaskHandleSchema, type ImageRef, type TaskHandle } from './values.js';

const TYPE = 'RunwayI2V';

const params = z.object({
  provider: z.enum(['runcomfy', 'cometapi', 'runway']).default('runway'),
  model: z.enum(['gen4_turbo', 'gen3a_turbo']).default('gen4_turbo'),
  promptText: z.string().default(''),
  ratio: z.enum(ALL_RATIOS as [string, ...string[]]).default('1280:720'),
  // Every duration any provider offers (Runway: any integer 2–10); validation narrows it per provider.
  duration: z.literal([2, 3, 4, 5, 6, 7, 8, 9, 10]).default(5),
  seed: z.number().int().min(0).max(4294967295).default(0),
  watermark: z.boolean().default(false),
});
type Params = z.infer<typeof params>;

/** The LoadImage feeding this node, looking through pass-through ValidateImage nodes when the runtime allows. */
function sourceLoadImage(ctx: Pick<ValidationContext, 'upstream'>): UpstreamNode | undefined {
  let node = ctx.upstream('image');
  // Bounded: in a cyclic graph (reported by the validator) the chain would never end.
  for (let hops = 0; node?.type === 'ValidateImage' && hops < 64; hops++) node = node.upstream?.('image');
  return node?.type === 'LoadImage' ? node : undefined;
}

function checkModelParams(p: Params, info: ProviderInfo, issue: (field: string, type: string, message: string, details: string) => Issue): Issue[] {
  const spec = info.models[p.model];
  const offered = Object.keys(info.models).join(', ');
  if (!spec) {
    const retired = retiredModelMessage(p.provider, p.model);
    if (retired) return [issue('model', 'value_not_in_list', 'Model retired', retired)];
    return [issue('model', 'value_not_in_list', 'Model not offered', `${p.model} is not offered by ${p.provider} (offered: ${offered})`)];
  }
  const label = `${p.provider} ${p.model}`;
  const issues: Issue[] = [];
  if (!spec.ratios.includes(p.ratio)) {
    issues.push(issue('ratio', 'value_not_in_list', 'Ratio not offered', `${p.ratio} is not offered by ${label} (offered: ${spec.ratios.join(', ')})`));
  }
  if (!spec.durations.includes(p.duration)) {
    issues.push(issue('duration', 'value_not_in_list', 'Duration not offered', `${p.duration} s is not offered by ${label} (offered: ${spec.durations.join(', ')})`));
  }
  // String length in UTF-16 code units, as Runway counts it.
  if (p.promptText.length > spec.promptMaxLength) {
    issues.push(issue('promptText', 'value_bigger_than_max', 'Prompt too long', `${p.promptText.length} characters, limit ${spec.promptMaxLength} for ${label}`));
  }
  if (spec.promptRequired && p.promptText.trim() === '') {
    issues.push(issue('promptText', 'required_input_missing', 'Prompt required', `${label} requires a non-blank promptText`));
  }
  if (p.seed > spec.seedMax) {
    issues.push(issue('seed', 'value_bigger_than_max', 'Seed too large', `${p.seed}, limit ${spec.seedMax} for ${label}`));
  }
  if (p.watermark && !spec.watermark) {
    issues.push(issue('watermark', 'custom_validation_failed', 'Watermark not supported', `watermark=true is not supported by ${label}; set it to false`));
  }
  return issues;
}

function validateRunwayI2V(p: Params, ctx: ValidationContext): Issue[] {
  const info = PROVIDERS[p.provider];
  const issue = (field: string, type: string, message: string, details: string) =>
    nodeIssue({ nodeId: ctx.nodeId, nodeType: TYPE }, field, type, message, details);
  const issues = checkModelParams(p, info, issue);
  if (!ctx.env[info.keyEnv]) {
    issues.push(issue('provider', 'missing_api_key', 'API key missing', `${info.keyEnv} is not set (needed for ${p.provider})`));
  }
  const image = sourceLoadImage(ctx)?.params.image;
  const localImage = typeof image === 'string' && !isRemoteUrl(image);
  if (localImage && !info.limits.acceptsDataUri && !ctx.files.publicUrl && !ctx.files.imageHost) {
    issues.push(
      issue(
        'image',
        'custom_validation_failed',
        'Local image needs a public URL',
        `${p.provider} fetches images only by public https URL, but ${quote(image)} is a local file: run with --image-host s3://bucket/prefix (object storage; also REELGRAPH_IMAGE_HOST), or pass an https URL to LoadImage, or run with --public-url https://… (a tunnel to this machine) and optionally --listen host:port`,
      ),
    );
  }
  return issues;
}

function submitRequest(p: Params, promptImage: string, watermarkAllowed: boolean): SubmitRequest {
  const request: SubmitRequest = { model: p.model, promptImage, ratio: p.ratio, duration: p.duration, seed: p.seed };
  if (p.promptText.trim() !== '') request.promptText = p.promptText;
  if (watermarkAllowed) request.watermark = p.watermark;
  return request;
}

/**
 * The job a run of this node would create, or the one it would find instead: a cached task handle, or a journal entry
 * under the same key submitOnce would use — at the provider (re-attached at no cost) or with an unknown outcome (refused).
 */
async function plannedJob(p: Params, ctx: PlanContext<NodeServices>): Promise<PlannedJob> {
  const job: PlannedJob = { provider: p.provider, model: p.model, durationSeconds: p.duration, ratio: p.ratio };
  const cached = TaskHandleSchema.safeParse(ctx.cached?.TASK);
  if (cached.success) return { ...job, existing: { status: 'reattach', taskId: cached.data.taskId } };
  const journal = ctx.services?.journal;
  const image = sourceLoadImage(ctx)?.params.image;
  if (!journal || typeof image !== 'string') return job;
  const imageId = await imageIdentity(image, ctx.files.inputDir).catch(() => undefined);
  if (imageId === undefined) return job;
  const request = submitRequest(p, '', PROVIDERS[p.provider].models[p.model]?.watermark ?? false);
  const { workflowPath, row } = journal.origin ?? {};
  const jobKey = jobKeyFor({ provider: p.provider, baseUrl: baseUrlFor(p.provider, ctx.env), request, imageId, nodeId: ctx.nodeId, workflowPath, row });
  const record = await journal.find(jobKey);
  if (!record || !isLive(record)) return job;
  return { ...job, existing: record.taskId ? { status: 'reattach', jobKey, taskId: record.taskId } : { status: 'unknown', jobKey, since: record.createdAt } };
}

/** "rate limited, retrying in 2 s": what the CLI and the editor show while a refused create waits. */
function createRetryNote(notice: RetryNotice): string {
  const when = `retrying in ${Math.max(1, Math.ceil(notice.delayMs / 1000))} s`;
  if (notice.status === 429) return `rate limited, ${when}`;
  if (notice.status !== undefined) return `provider busy (HTTP ${notice.status}, not processed), ${when}`;
  return `could not connect, ${when}`;
}

export const runwayI2V = defineNode({
  type: TYPE,
  version: 1,
  displayName: 'Runway Image to Video',
  category: 'api node/video/Runway',
  description: 'Submits one Runway image-to-video job (gen4_turbo or gen3a_turbo) to the chosen provider and returns its task handle.',
  inputs: { image: { type: 'IMAGE', tooltip: 'First frame' } },
  params,
  widgets: {
    promptText: { multiline: true },
    seed: { controlAfterGenerate: true },
  },
  outputs: [{ name: 'TASK', type: 'TASK' }],
  migrations: [
    {
      from: 0,
      to: 1,
      description: 'watermark added (CometAPI can watermark); older workflows never asked for one',
      // v0 widgets: provider, model, promptText, ratio, duration, seed, control value.
      widgets: (values) => (values.length >= 8 ? values : [...values.slice(0, 7), false]),
      inputs: (values) => ({ watermark: false, ...values }),
    },
  ],
  plannedJobs: async (p, ctx) => [await plannedJob(p, ctx)],
  // A cached handle means re-running an unchanged workflow never pays twice.
  cacheable: true,
  // …unless the journal says that task has since failed or was cancelled: then a re-run submits anew.
  async isCacheValid(outputs, ctx) {
    const task = TaskHandleSchema.safeParse(outputs.TASK);
    if (!task.success) return false;
    const record = await ctx.services?.journal?.findByTask(task.data.provider, task.data.taskId);
    return !record || canDeliver(record);
  },
  validate: (p, ctx) => validateRunwayI2V(p, ctx),
  async run(inputs, p, ctx) {
    const info = PROVIDERS[p.provider];
    const image = ImageRefSchema.parse(inputs.image);
    const provider = ctx.services.providers.get(p.provider);
    const delivered = await deliverImage(image, info, ctx);
    const promptImage = delivered.promptImage;
    // Submitted exactly once: a retried create may bill a second job.
    const request = submitRequest(p, promptImage, info.models[p.model]?.watermark ?? false);
    // The adapter knows where it submits; the environment and catalog are fallbacks for adapters that do not say.
    const baseUrl = provider.baseUrl ?? ((ctx.env ?? process.env)[info.baseUrlEnv] || info.defaultBaseUrl);
    const slots = ctx.services.jobSlots;
    // Waiting for a --max-jobs slot gives the executor slot back, so the Polls that free one can run.
    const onWait = (inFlight: number, limit: number) => ctx.progress({ value: 0, max: 100, phase: 'queued', note: `waiting for a ${p.provider} slot (${inFlight} jobs in flight, --max-jobs ${p.provider}=${limit})` });
    const token = slots ? await ctx.releaseSlotWhile(() => slots.acquire(p.provider, ctx.signal, onWait)) : undefined;
    const onRetry = (notice: RetryNotice) => ctx.progress({ value: 0, max: 100, phase: 'queued', note: createRetryNote(notice) });
    const submit = (hooks?: SubmitHooks) => provider.submit(request, { signal: ctx.signal, onRetry: (notice) => (hooks?.onRetry(notice), onRetry(notice)), ...(hooks ? { onAttempt: hooks.onAttempt } : {}) });
    let result: { taskId: string; reattached: boolean };
    try {
      // Through the journal: a job this node already paid for is re-attached, never created again.
      result = ctx.services.journal
        ? await submitOnce(ctx.services.journal, { provider: p.provider, baseUrl, request, imageId: image.sha256 ?? image.url ?? image.name, nodeId: ctx.nodeId, submit, retryFailed: ctx.services.retryFailed === true })
        : { ...(await submit()), reattached: false };
    } catch (error) {
      if (token) slots?.release(p.provider, token);
      throw error;
    }
    if (token) slots?.bind(p.provider, token, result.taskId);
    const task: TaskHandle = {
      provider: p.provider,
      model: p.model,
      taskId: result.taskId,
      baseUrl,
      submittedAt: ctx.clock.now(),
      duration: p.duration,
      ratio: p.ratio,
      image: { route: delivered.route, ...(delivered.fit ? { fit: delivered.fit } : {}) },
    };
    ctx.log.info(`${result.reattached ? 're-attached to' : 'submitted'} ${p.provider} ${p.model} task ${result.taskId}`);
    return { TASK: task };
  },
});
