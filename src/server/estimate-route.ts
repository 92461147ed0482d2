import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutputCache, defaultCacheDir } from '../engine/cache.js';
import { messageOf } from '../engine/errors.js';
import { planDryRun } from '../app/dry-run.js';
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
  const body = await readJson(request, MAX_PROMPT_BYTES);
  if (!isRecord(body) || body.prompt === undefined) return sendJson(response, 400, promptError('no_prompt', 'No prompt provided', ''));
  let parsed: ParsedWorkflow;
  try {
    parsed = parseUserWorkflow(body.prompt, ctx.registry, promptProvider(isRecord(body.extra_data) ? body.extra_data : {}, ctx.provider));
  } catch (error) {
    return sendJson(response, 400, promptError('invalid_prompt', 'Invalid prompt', messageOf(error)));
  }
  const plan = await planDryRun(parsed, ctx.registry, {
    files: { inputDir: ctx.inputDir, outputDir: ctx.outputDir, publicUrl: ctx.publicUrl },
    env: ctx.env,
    cache: new OutputCache(defaultCacheDir(ctx.env)),
    prices: await loadPrices(undefined, ctx.env),
    // What the run's cache check consults, as `run --dry-run` does: a cached task the journal
    // knows failed or was stopped is not a hit, so the badge shows the job the run would create.
    cacheCheck: { services: { journal: new JobJournal(defaultStateDir(ctx.env)) } },
  });
  // A graph still being built is not a bad request: its plan is "nothing runs yet, because…"
  // (a 400 here was logged by the browser as an error on every edit).
  if (!plan.ok) return sendJson(response, 200, { runnable: false, ...(plan.validation.comfy ?? promptError('invalid_prompt', 'Invalid prompt', '')) });
  const { nodes, jobs, existing, totals, totalUsd, warnings } = plan;
  sendJson(response, 200, { nodes, jobs, existing, totals, totalUsd, warnings });
}
