import { z } from 'zod';
import { isApiLink } from '../comfy/links.js';
import { type ValidationContext } from '../engine/define-node.js';
import { defineNode, type PackContext } from './services.js';
import { InputError, type Issue } from '../engine/errors.js';
import { checkImageLimits, strictestTarget, targetFor, type ImageFacts, type LimitTarget } from './image-limits.js';
import { transportOptions } from './image-delivery.js';
import type { TransportOptions } from './image-transport.js';
import { nodeIssue, quote } from './issues.js';
import { inspectLocalImageOnce } from './load-image.js';
import { isRemoteUrl } from './paths.js';
import { ImageRefSchema } from './values.js';

const TYPE = 'ValidateImage';
const I2V_TYPE = 'RunwayI2V';

type NodeView = { type: string; params: Record<string, unknown> };

/** One target per downstream RunwayI2V; the strictest limits when there is none. */
export function targetsFrom(downstream: NodeView[]): LimitTarget[] {
  const targets = downstream.filter((node) => node.type === I2V_TYPE).map((node) => targetFor(node.params));
  return targets.length > 0 ? targets : [strictestTarget()];
}

const ApiPromptSchema = z.record(z.string(), z.object({ class_type: z.string(), inputs: z.record(z.string(), z.unknown()).default({}) }));

/** Consumers of `nodeId` read from a ComfyUI API prompt (`{id: {class_type, inputs}}`, links as `[id, slot]`). */
export function downstreamFromApiPrompt(nodeId: string, api: unknown): NodeView[] {
  const parsed = ApiPromptSchema.safeParse(api);
  if (!parsed.success) return [];
  const consumers: NodeView[] = [];
  for (const node of Object.values(parsed.data)) {
    const linked = Object.values(node.inputs).some((v) => isApiLink(v) && v[0] === nodeId);
    if (linked) consumers.push({ type: node.class_type, params: node.inputs });
  }
  return consumers;
}

/** At run time: the runtime's downstream() when it offers one, else the workflow's API prompt. */
function runTargets(ctx: PackContext): LimitTarget[] {
  if (ctx.downstream) return targetsFrom(ctx.downstream());
  return targetsFrom(downstreamFromApiPrompt(ctx.nodeId, ctx.workflow?.api));
}

function toIssues(ctx: { nodeId: string }, image: ImageFacts, targets: LimitTarget[], transport: TransportOptions): Issue[] {
  return targets.flatMap((target) =>
    checkImageLimits(image, target, transport).map((f) => nodeIssue({ nodeId: ctx.nodeId, nodeType: TYPE }, 'image', 'custom_validation_failed', f.message, f.details)),
  );
}

/** Checks before execution when the image is a local file from a LoadImage, so a bad image costs nothing. */
async function validateBeforeRun(ctx: ValidationContext): Promise<Issue[]> {
  const upstream = ctx.upstream('image');
  if (upstream?.type !== 'LoadImage') return [];
  const name = upstream.params.image;
  // URLs are checked at run time (no network here); unreadable files are LoadImage's own issue.
  if (typeof name !== 'string' || isRemoteUrl(name)) return [];
  const local = await inspectLocalImageOnce(ctx, name);
  if (!local.ok) return [];
  const transport = transportOptions(ctx.files, upstream.params.fit);
  const issues = toIssues(ctx, { ...local.header, source: 'file' }, targetsFrom(ctx.downstream()), transport);
  for (const issue of issues) issue.details = `${quote(name)}: ${issue.details}`;
  return issues;
}

export const validateImage = defineNode({
  type: TYPE,
  version: 1,
  displayName: 'Validate Image',
  category: 'image',
  description: "Checks the image against the downstream provider and model's published limits before anything is spent.",
  inputs: { image: { type: 'IMAGE' } },
  params: z.object({}),
  outputs: [{ name: 'IMAGE', type: 'IMAGE' }],
  validate: (_params, ctx) => validateBeforeRun(ctx),
  async run(inputs, _params, ctx) {
    const image = ImageRefSchema.parse(inputs.image);
    const targets = runTargets(ctx);
    const failures = toIssues(ctx, image, targets, transportOptions(ctx.files, image.fit));
    if (failures.length > 0) {
      throw new InputError(failures.map((f) => `image ${quote(image.name)}: ${f.details}`).join('; '));
    }
    const first = targets[0]!;
    return { IMAGE: { ...image, validatedFor: { provider: first.provider, model: first.model } } };
  },
});
