import { z } from 'zod';
import { FaultPlanSchema } from './faults.js';
import { json, parseJson } from './http-util.js';
import type { EmulatedJob, EmulatorOptions, FaultPlan, Reply, RequestLogEntry, Route, RouteContext } from './types.js';

/**
 * The control API under /_emulator/, so the CLI and other processes can drive an emulator
 * they did not start: GET log, GET jobs, POST faults, POST reset, POST config.
 */

export interface EmulatorControl {
  log: RequestLogEntry[];
  jobs(): EmulatedJob[];
  setFaults(faults: FaultPlan): void;
  configure(options: Partial<EmulatorOptions>): void;
  reset(): void;
}

/** The options that can travel as JSON (not the clock or the failJobs predicate). */
const ConfigSchema = z
  .object({
    timing: z.object({ queuedMs: z.number().min(0), runningMs: z.number().min(0) }),
    cometNotExistPolls: z.number().int().min(0),
    cometShape: z.enum(['wrapped', 'bare']),
    runcomfyErrorsAs200: z.boolean(),
    urlTtlMs: z.number().min(0),
    frameWidth: z.number().int().min(2).max(1920),
    fps: z.number().int().min(1).max(60),
    acceptAnyKey: z.boolean(),
    keys: z.array(z.string()),
    strictKeys: z.boolean(),
    runwayMaxConcurrent: z.number().int().min(0),
    createRatePerS: z.number().min(0),
    unknownStatusPolls: z.number().int().min(0),
    numbersAsStrings: z.boolean(),
    nullEstimatedCost: z.boolean(),
    slowMultiplier: z.number().min(1).max(1000),
  })
  .partial()
  .strict();

function parseWith<S extends z.ZodType>(schema: S, ctx: RouteContext): { ok: true; value: z.infer<S> } | { ok: false; reply: Reply } {
  const parsed = schema.safeParse(parseJson(ctx.body) ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reply: json(400, { error: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` }) };
}

const handlers: Record<string, { method: string; handle(control: EmulatorControl, ctx: RouteContext): Reply }> = {
  '/_emulator/log': { method: 'GET', handle: (control) => json(200, { log: control.log }) },
  '/_emulator/jobs': { method: 'GET', handle: (control) => json(200, { jobs: control.jobs() }) },
  '/_emulator/reset': {
    method: 'POST',
    handle(control) {
      control.reset();
      return json(200, { ok: true });
    },
  },
  '/_emulator/faults': {
    method: 'POST',
    handle(control, ctx) {
      const plan = parseWith(FaultPlanSchema, ctx);
      if (!plan.ok) return plan.reply;
      control.setFaults(plan.value as FaultPlan);
      return json(200, { ok: true, rules: plan.value.rules.length });
    },
  },
  '/_emulator/config': {
    method: 'POST',
    handle(control, ctx) {
      const config = parseWith(ConfigSchema, ctx);
      if (!config.ok) return config.reply;
      control.configure(config.value as Partial<EmulatorOptions>);
      return json(200, { ok: true });
    },
  },
};

/** The route for a control path, or undefined. */
export function controlRoute(control: EmulatorControl, method: string, path: string): Route | undefined {
  const handler = handlers[path];
  if (!handler) return undefined;
  return {
    provider: 'emulator',
    kind: 'other',
    handle: async (ctx) => (method === handler.method ? handler.handle(control, ctx) : json(405, { error: `Use ${handler.method} for ${path}` })),
  };
}
