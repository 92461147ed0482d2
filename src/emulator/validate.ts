import { z } from 'zod';
import { EMULATED_LIMITS, type BodyLimits, type EmulatedModel, type EmulatedProvider } from './limits.js';
import type { EmulatedJobRequest } from './types.js';

/**
 * Request-body validation the way the services do it: zod schemas built from the emulator's own
 * limit tables (limits.ts, written from the providers' documents). Issues keep zod's shape
 * ({code, message, path}), which is what Runway itself returns.
 */

export interface BodyIssue {
  code: string;
  message: string;
  path: (string | number)[];
}

export type BodyCheck = { ok: true; request: EmulatedJobRequest } | { ok: false; issues: BodyIssue[] };

const PromptImageArraySchema = z.array(z.object({ uri: z.string().min(1), position: z.enum(['first', 'last']) })).min(1);

interface ParsedBody {
  promptImage: string | { uri: string }[];
  ratio?: string | undefined;
  duration?: number | undefined;
  promptText?: string | undefined;
  seed?: number | undefined;
}

/** Runway also takes promptImage as [{uri, position}]; the others take a string only. */
function specSchema(spec: BodyLimits, provider: EmulatedProvider): z.ZodType<ParsedBody> {
  const promptText = z.string().max(spec.promptMaxLength);
  const ratio = z.enum(spec.ratios as [string, ...string[]]);
  const base = z.object({
    promptImage: provider === 'runway' ? z.union([z.string().min(1), PromptImageArraySchema]) : z.string().min(1),
    ratio: spec.defaultRatio === undefined ? ratio : ratio.optional(),
    duration: z.literal(spec.durations as [number, ...number[]]).optional(),
    promptText: spec.promptRequired ? promptText.min(1) : promptText.optional(),
    seed: z.number().int().min(0).max(spec.seedMax).optional(),
  });
  return spec.watermark ? base.extend({ watermark: z.boolean().optional() }) : base;
}

/** Built once per provider and model: zod compiles a schema on first use, which is slow per request. */
const schemas = new Map<string, z.ZodType<ParsedBody>>();

function schemaFor(provider: EmulatedProvider, model: EmulatedModel, spec: BodyLimits): z.ZodType<ParsedBody> {
  const key = `${provider}/${model}`;
  let schema = schemas.get(key);
  if (!schema) schemas.set(key, (schema = specSchema(spec, provider)));
  return schema;
}

/** Validates one create body for `provider`; `pathModel` is the model named by the URL (RunComfy). */
export function checkCreateBody(provider: EmulatedProvider, body: unknown, pathModel?: EmulatedModel): BodyCheck {
  const models = Object.keys(EMULATED_LIMITS[provider]) as [EmulatedModel, ...EmulatedModel[]];
  let model = pathModel;
  if (!model) {
    const picked = modelPicker(provider, models).safeParse(body);
    if (!picked.success) return { ok: false, issues: toIssues(picked.error) };
    model = picked.data.model;
  }
  const spec = EMULATED_LIMITS[provider][model];
  if (!spec) return { ok: false, issues: [{ code: 'invalid_value', message: `Unknown model ${model}`, path: ['model'] }] };
  const parsed = schemaFor(provider, model, spec).safeParse(body);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error) };
  const data = parsed.data;
  const promptImage = typeof data.promptImage === 'string' ? data.promptImage : (data.promptImage[0]?.uri ?? '');
  const request: EmulatedJobRequest = { model, promptImage, ratio: data.ratio ?? spec.defaultRatio ?? '', duration: data.duration ?? spec.defaultDuration };
  if (data.promptText !== undefined) request.promptText = data.promptText;
  if (data.seed !== undefined) request.seed = data.seed;
  return { ok: true, request };
}

const pickers = new Map<EmulatedProvider, z.ZodType<{ model: EmulatedModel }>>();

function modelPicker(provider: EmulatedProvider, models: [EmulatedModel, ...EmulatedModel[]]): z.ZodType<{ model: EmulatedModel }> {
  let picker = pickers.get(provider);
  if (!picker) pickers.set(provider, (picker = z.object({ model: z.enum(models) })));
  return picker;
}

function toIssues(error: z.ZodError): BodyIssue[] {
  return error.issues.map((issue) => ({ code: issue.code, message: issue.message, path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)) }));
}
