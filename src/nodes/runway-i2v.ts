import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ALL_RATIOS, PROVIDERS } from '../providers/catalog.js';
import type { ProviderInfo, SubmitRequest } from '../providers/provider.js';
import { type UpstreamNode, type ValidationContext } from '../engine/define-node.js';
import { defineNode, type PackContext } from './services.js';
import { InputError, type Issue } from '../engine/errors.js';
import { canDeliver, submitOnce } from '../jobs/journal.js';
import { dataUriLength } from './image-limits.js';
import { nodeIssue, quote } from './issues.js';
import { isRemoteUrl } from './paths.js';
import { ImageRefSchema, TaskHandleSchema, type ImageRef, type TaskHandle } from './values.js';

const TYPE = 'RunwayI2V';

const params = z.object({
  provider: z.enum(['runcomfy', 'cometapi', 'runway']).default('runway'),
  model: z.enum(['gen4_turbo', 'gen3a_turbo']).default('gen4_turbo'),
  promptText: z.string().default(''),
  ratio: z.enum(ALL_RATIOS as [string, ...string[]]).default('1280:720'),
  duration: z.literal([5, 10]).default(5),
  seed: z.number().int().min(0).max(4294967295).default(0),
  watermark: z.boolean().default(false),
});
type Params = z.infer<typeof params>;

/** The LoadImage feeding this node, looking through pass-through ValidateImage nodes when the runtime allows. */
function sourceLoadImage(ctx: ValidationContext): UpstreamNode | undefined {
  let node = ctx.upstream('image');
  // Bounded: in a cyclic graph (reported by the validator) the chain would never end.
  for (let hops = 0; node?.type === 'ValidateImage' && hops < 64; hops++) node = node.upstream?.('image');
  return node?.type === 'LoadImage' ? node : undefined;
}

function checkModelParams(p: Params, info: ProviderInfo, issue: (field: string, type: string, message: string, details: string) => Issue): Issue[] {
  const spec = info.models[p.model];
  const offered = Object.keys(info.models).join(', ');
  if (!spec) return [issue('model', 'value_not_in_list', 'Model not offered', `${p.model} is not offered by ${p.provider} (offered: ${offered})`)];
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
  if (localImage && !info.limits.acceptsDataUri && !ctx.files.publicUrl) {
    issues.push(
      issue(
        'image',
        'custom_validation_failed',
        'Local image needs a public URL',
        `${p.provider} fetches images only by public https URL, but ${quote(image)} is a local file: pass an https URL to LoadImage, or run with --public-url https://… (a tunnel to this machine) and optionally --listen host:port`,
      ),
    );
  }
  return issues;
}

/** promptImage as the provider takes it: the URL, a data URI, or a URL we serve the file at. */
async function promptImageFor(image: ImageRef, info: ProviderInfo, ctx: PackContext): Promise<string> {
  if (image.source === 'url' && image.url) return image.url;
  if (!image.path) throw new InputError(`image ${quote(image.name)} has neither a URL nor a local path`);
  if (!info.limits.acceptsDataUri) return ctx.services.hostFile(image.path);
  const length = dataUriLength(image.format, image.bytes);
  if (length >= info.limits.maxDataUriBytes) {
    throw new InputError(`image ${quote(image.name)} makes a data URI of ${length} bytes, limit ${info.limits.maxDataUriBytes} for ${info.id}`);
  }
  const content = await readFile(image.path);
  return `data:image/${image.format};base64,${content.toString('base64')}`;
}

function submitRequest(p: Params, promptImage: string, watermarkAllowed: boolean): SubmitRequest {
  const request: SubmitRequest = { model: p.model, promptImage, ratio: p.ratio, duration: p.duration, seed: p.seed };
  if (p.promptText.trim() !== '') request.promptText = p.promptText;
  if (watermarkAllowed) request.watermark = p.watermark;
  return request;
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
  plannedJobs: (p) => [{ provider: p.provider, model: p.model, durationSeconds: p.duration, ratio: p.ratio }],
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
    const promptImage = await promptImageFor(image, info, ctx);
    // Submitted exactly once: a retried create may bill a second job.
    const request = submitRequest(p, promptImage, info.models[p.model]?.watermark ?? false);
    // The adapter knows where it submits; the environment and catalog are fallbacks for adapters that do not say.
    const baseUrl = provider.baseUrl ?? ((ctx.env ?? process.env)[info.baseUrlEnv] || info.defaultBaseUrl);
    const submit = () => provider.submit(request, { signal: ctx.signal });
    // Through the journal: a job this node already paid for is re-attached, never created again.
    const result = ctx.services.journal
      ? await submitOnce(ctx.services.journal, { provider: p.provider, baseUrl, request, imageId: image.sha256 ?? image.url ?? image.name, nodeId: ctx.nodeId, submit })
      : { ...(await submit()), reattached: false };
    const task: TaskHandle = {
      provider: p.provider,
      model: p.model,
      taskId: result.taskId,
      baseUrl,
      submittedAt: ctx.clock.now(),
      duration: p.duration,
      ratio: p.ratio,
    };
    ctx.log.info(`${result.reattached ? 're-attached to' : 'submitted'} ${p.provider} ${p.model} task ${result.taskId}`);
    return { TASK: task };
  },
});
