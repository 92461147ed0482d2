import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutputCache, defaultCacheDir } from '../engine/cache.js';
import { messageOf } from '../engine/errors.js';
import { planDryRun, type DryRunPlan } from '../app/dry-run.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import { parseUserWorkflow } from '../app/parse.js';
import { loadPrices } from '../providers/prices.js';
import { JobJournal, defaultStateDir } from '../jobs/journal.js';
import { isRecord, readJson, sendJson } from './http-util.js';
import { promptError, promptProvider, type PromptRouteContext } from './prompt-route.js';

const MAX_PROMPT_BYTES = 10 * 1024 * 1024;

/**
 * POST /reelgraph/estimate `{prompt}`: the dry-run plan for the editor (which nodes would
 * run or come from the cache, the provider jobs and their estimated cost). Nothing is queued
 * or submitted. A prompt that cannot be read answers 400 in /prompt's shape; one that reads but
 * would not pass validation answers 200 with `runnable: false` and /prompt's errors.
 */
export async function postEstimate(request: IncomingMessage, response: ServerResponse, ctx: PromptRouteContext): Promise<void> {
  const answer = await planRequest(request, ctx);
  if ('status' in answer) return sendJson(response, answer.status, answer.body);
  const { nodes, jobs, existing, totals, totalUsd, warnings } = answer.plan;
  sendJson(response, 200, { nodes, jobs, existing, totals, totalUsd, warnings });
}

/** A request's `{prompt, extra_data}` planned as `run --dry-run` plans it, or the answer to give when it cannot be. */
export async function planRequest(
  request: IncomingMessage,
  ctx: PromptRouteContext,
): Promise<{ plan: DryRunPlan & { ok: true }; body: Record<string, unknown> } | { status: number; body: unknown }> {
  const body = await readJson(request, MAX_PROMPT_BYTES);
  if (!isRecord(body) || body.prompt === undefined) return { status: 400, body: promptError('no_prompt', 'No prompt provided', '') };
  let parsed: ParsedWorkflow;
  try {
    parsed = parseUserWorkflow(body.prompt, ctx.registry, promptProvider(isRecord(body.extra_data) ? body.extra_data : {}, ctx.provider));
  } catch (error) {
    return { status: 400, body: promptError('invalid_prompt', 'Invalid prompt', messageOf(error)) };
  }
  const plan = await planDryRun(parsed, ctx.registry, {
    files: { inputDir: ctx.inputDir, outputDir: ctx.outputDir, publicUrl: ctx.publicUrl },
    env: ctx.env,
    cache: new OutputCache(defaultCacheDir(ctx.env)),
    prices: await loadPrices(undefined, ctx.env),
    // What the run's cache check and submit consult, as `run --dry-run` does: a cached task the journal knows failed
    // or was stopped is not a hit, and a job it already holds is re-attached or (outcome unknown) refused.
    cacheCheck: { services: { journal: serverJournal(ctx) } },
  });
  // A graph still being built is not a bad request: its plan is "nothing runs yet, because…"
  // (a 400 here was logged by the browser as an error on every edit).
  if (!plan.ok) return { status: 200, body: { runnable: false, ...(plan.validation.comfy ?? promptError('invalid_prompt', 'Invalid prompt', '')) } };
  return { plan: plan as DryRunPlan & { ok: true }, body };
}

/** The journal the server's runs write (runWorkflow's default: the user's, in the state folder). */
export function serverJournal(ctx: PromptRouteContext): JobJournal {
  return new JobJournal(defaultStateDir(ctx.env));
}
