import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeRegistry } from '../engine/registry.js';
import { parseJsonBody, readBody, sendJson } from './http-util.js';
import type { ServerQueue } from './queue.js';
import type { ProviderId } from '../providers/provider.js';
import { checkPrompt, type PromptCheckOptions } from './prompt-check.js';
import { OFF_THREAD_BYTES, type OffThreadChecker } from './prompt-off-thread.js';

export { PROVIDER_EXTRA_DATA_KEY, parsePostedPrompt, promptError, promptProvider, stripSecrets } from './prompt-check.js';

/** POST /prompt: parse, validate (nothing is queued or spent on an invalid prompt), enqueue. */

export interface PromptRouteContext {
  queue: ServerQueue;
  registry: NodeRegistry;
  inputDir: string;
  outputDir: string;
  env: NodeJS.ProcessEnv;
  /** RunOptions.publicUrl: validation accepts local images for URL-only providers when set. */
  publicUrl?: string;
  /** The provider ComfyUI's Runway nodes run on unless a prompt chooses (`serve --provider`; default runway). */
  provider?: ProviderId;
  /** How local images reach providers (serve --image-host, --public-url, --listen, --image-fit). */
  images?: ServerImageOptions;
  /** Where big prompts are checked, off the event loop; without it every prompt is checked inline. */
  offThread?: OffThreadChecker;
}

export interface ServerImageOptions {
  publicUrl?: string;
  listen?: string;
  imageHost?: string;
  imageFit?: 'auto' | 'off';
  /** Where a fitted copy is announced (serve prints it on stderr). */
  notice?: (line: string) => void;
}

const MAX_PROMPT_BYTES = 10 * 1024 * 1024;

export async function postPrompt(request: IncomingMessage, response: ServerResponse, ctx: PromptRouteContext): Promise<void> {
  const body = await readBody(request, MAX_PROMPT_BYTES);
  const check =
    ctx.offThread && body.length >= OFF_THREAD_BYTES
      ? await ctx.offThread.check(body)
      : await checkPrompt(parseJsonBody(body), ctx.registry, promptCheckOptions(ctx));
  if (!check.ok) return sendJson(response, check.status, check.answer);
  const promptId = check.promptId ?? randomUUID();
  const number = await ctx.queue.nextNumber();
  // History keeps the prompt as posted (ComfyUI's own node types, ids and all), secrets removed, not our mapping of it.
  const posted = check.history ?? check.parsed.api;
  const item = { number, promptId, prompt: posted, extraData: check.extraData, outputsToExecute: check.outputs, clientId: check.clientId };
  // A worker (serve --redis) parses `document` again as posted: the copy without secrets, so none is stored in Redis.
  await ctx.queue.submit({ item, parsed: check.parsed, document: posted, ...(check.provider ? { provider: check.provider } : {}) });
  sendJson(response, 200, { prompt_id: promptId, number, node_errors: {} });
}

/** What checking a prompt needs of the server, as plain data (it may cross to the worker thread). */
export function promptCheckOptions(ctx: Omit<PromptRouteContext, 'queue' | 'registry'>): PromptCheckOptions {
  const options: PromptCheckOptions = { inputDir: ctx.inputDir, outputDir: ctx.outputDir, env: ctx.env, publicUrl: ctx.publicUrl, provider: ctx.provider };
  if (ctx.images) {
    // Every key as given but the function, which validation does not use and a worker cannot receive.
    const { notice: _notice, ...images } = ctx.images;
    options.images = images;
  }
  return options;
}
