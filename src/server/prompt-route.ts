import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageOf } from '../engine/errors.js';
import type { ParsedWorkflow } from '../comfy/index.js';
import { parseUserWorkflow } from '../app/parse.js';
import type { NodeRegistry } from '../engine/registry.js';
import { validateWorkflow } from '../app/run.js';
import { isRecord, readJson, sendJson } from './http-util.js';
import type { ServerQueue } from './queue.js';
import { PROVIDER_IDS } from '../providers/catalog.js';
import type { ProviderId } from '../providers/provider.js';
import { isSecretName } from '../http/secrets.js';

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
}

/**
 * The per-prompt provider choice for ComfyUI's Runway nodes: `extra_data.reelgraph_provider`
 * ("runway" | "cometapi" | "runcomfy"), documented in README.md ("Server API").
 */
export const PROVIDER_EXTRA_DATA_KEY = 'reelgraph_provider';

/** The provider a prompt asks for, else the server's default; a value that names no provider is a 400. */
export function promptProvider(extraData: Record<string, unknown>, fallback: ProviderId | undefined): ProviderId | undefined {
  const chosen = extraData[PROVIDER_EXTRA_DATA_KEY];
  if (chosen === undefined) return fallback;
  if (typeof chosen === 'string' && (PROVIDER_IDS as string[]).includes(chosen)) return chosen as ProviderId;
  throw new Error(`extra_data.${PROVIDER_EXTRA_DATA_KEY} must be one of ${PROVIDER_IDS.join(', ')}, got ${JSON.stringify(chosen)}`);
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
  const body = await readJson(request, MAX_PROMPT_BYTES);
  if (!isRecord(body) || body.prompt === undefined) return sendJson(response, 400, promptError('no_prompt', 'No prompt provided', ''));
  const extraData = isRecord(body.extra_data) ? stripSecrets(body.extra_data) : {};
  let parsed: ParsedWorkflow;
  let provider: ProviderId | undefined;
  try {
    provider = promptProvider(extraData, ctx.provider);
    parsed = parsePostedPrompt(body.prompt, extraData, ctx.registry, provider);
  } catch (error) {
    return sendJson(response, 400, promptError('invalid_prompt', 'Invalid prompt', messageOf(error)));
  }
  const validation = await validateWorkflow(parsed, { inputDir: ctx.inputDir, outputDir: ctx.outputDir, env: ctx.env, publicUrl: ctx.publicUrl, ...ctx.images });
  if (!validation.ok) {
    const comfy = validation.comfy ?? promptError('prompt_outputs_failed_validation', 'Prompt outputs failed validation', '');
    return sendJson(response, 400, comfy);
  }
  const promptId = typeof body.prompt_id === 'string' && body.prompt_id !== '' ? body.prompt_id : randomUUID();
  const api = parsed.api;
  const number = await ctx.queue.nextNumber();
  const item = {
    number,
    promptId,
    // History keeps the prompt as posted (ComfyUI's own node types, ids and all), not our mapping of it.
    prompt: isRecord(body.prompt) ? stripSecrets(body.prompt) : api,
    extraData,
    outputsToExecute: Object.keys(api).filter((id) => ctx.registry.get(api[id]?.class_type ?? '')?.outputNode === true),
    clientId: typeof body.client_id === 'string' ? body.client_id : undefined,
  };
  await ctx.queue.submit({ item, parsed, document: body.prompt, ...(provider ? { provider } : {}) });
  sendJson(response, 200, { prompt_id: promptId, number, node_errors: {} });
}

/**
 * A posted prompt as it runs: Runway nodes mapped onto `provider`, and the editor's (or ComfyUI's) UI
 * workflow, which is what the user opened, kept to go into the saved video. A worker calls this again
 * on the same inputs. @throws when the prompt is not a workflow.
 */
export function parsePostedPrompt(prompt: unknown, extraData: Record<string, unknown>, registry: NodeRegistry, provider: ProviderId | undefined): ParsedWorkflow {
  const parsed = parseUserWorkflow(prompt, registry, provider);
  const ui = uiWorkflowOf(extraData);
  return ui === undefined ? parsed : { ...parsed, ui, opened: undefined };
}

export function promptError(type: string, message: string, details: string): { error: unknown; node_errors: Record<string, never> } {
  return { error: { type, message, details, extra_info: {} }, node_errors: {} };
}

/** Removes secret-looking keys at any depth, so they never reach history or the queue view. */
export function stripSecrets(value: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (isSecretName(key)) continue; // ComfyUI drops these before history is written; we catch their kin too.
    // The workflow itself is user data and may legitimately contain any key names.
    kept[key] = isRecord(inner) && key !== 'workflow' ? stripSecrets(inner) : inner;
  }
  return kept;
}

/** The editor's UI workflow, kept for provenance in the saved video. */
function uiWorkflowOf(extraData: Record<string, unknown>): Record<string, unknown> | undefined {
  const pnginfo = extraData.extra_pnginfo;
  return isRecord(pnginfo) && isRecord(pnginfo.workflow) ? pnginfo.workflow : undefined;
}
