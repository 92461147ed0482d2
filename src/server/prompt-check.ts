import type { ParsedWorkflow } from '../comfy/index.js';
import { parseUserWorkflow } from '../app/parse.js';
import { validateWorkflow } from '../app/run.js';
import { messageOf } from '../engine/errors.js';
import type { NodeRegistry } from '../engine/registry.js';
import { isSecretName } from '../http/secrets.js';
import { PROVIDER_IDS } from '../providers/catalog.js';
import type { ProviderId } from '../providers/provider.js';
import { isRecord } from './http-util.js';
import { emptyRecord } from '../engine/records.js';

/**
 * What POST /prompt decides before anything is queued: the body parsed, the workflow parsed and validated.
 * No server state is touched, so it runs on the main thread for a small prompt or in a worker thread for a
 * big one (./prompt-check-thread.ts), with the same answers.
 */

export interface PromptCheckOptions {
  inputDir: string;
  outputDir: string;
  env: NodeJS.ProcessEnv;
  publicUrl?: string;
  /** The provider ComfyUI's Runway nodes run on unless a prompt chooses. */
  provider?: ProviderId;
  /** How local images reach providers, as validation needs to know it (no functions: it crosses to a worker). */
  images?: { publicUrl?: string; listen?: string; imageHost?: string; imageFit?: 'auto' | 'off' };
}

export type PromptCheck =
  /** Refused with this status and ComfyUI-shaped body; nothing is queued. */
  | { ok: false; status: number; answer: unknown }
  | {
      ok: true;
      parsed: ParsedWorkflow;
      /** The provider ComfyUI's Runway nodes were mapped onto (the prompt's choice, else the server's). */
      provider: ProviderId | undefined;
      extraData: Record<string, unknown>;
      /** The prompt as posted, secrets removed, for the history; undefined when it was not an object. */
      history: Record<string, unknown> | undefined;
      promptId: string | undefined;
      clientId: string | undefined;
      /** The output node ids, in the API prompt's key order. */
      outputs: string[];
    };

/** @param body the request body, already parsed as JSON. */
export async function checkPrompt(body: unknown, registry: NodeRegistry, options: PromptCheckOptions): Promise<PromptCheck> {
  if (!isRecord(body) || body.prompt === undefined) return refuse(promptError('no_prompt', 'No prompt provided', ''));
  const extraData = isRecord(body.extra_data) ? stripSecrets(body.extra_data) : {};
  let parsed: ParsedWorkflow;
  let provider: ProviderId | undefined;
  try {
    provider = promptProvider(extraData, options.provider);
    parsed = parsePostedPrompt(body.prompt, extraData, registry, provider);
  } catch (error) {
    return refuse(promptError('invalid_prompt', 'Invalid prompt', messageOf(error)));
  }
  const validation = await validateWorkflow(parsed, { inputDir: options.inputDir, outputDir: options.outputDir, env: options.env, publicUrl: options.publicUrl, ...options.images });
  if (!validation.ok) return refuse(validation.comfy ?? promptError('prompt_outputs_failed_validation', 'Prompt outputs failed validation', ''));
  return {
    ok: true,
    parsed,
    provider,
    extraData,
    // History keeps the prompt as posted (ComfyUI's own node types, ids and all), not our mapping of it.
    history: isRecord(body.prompt) ? stripSecrets(body.prompt) : undefined,
    promptId: typeof body.prompt_id === 'string' && body.prompt_id !== '' ? body.prompt_id : undefined,
    clientId: typeof body.client_id === 'string' ? body.client_id : undefined,
    outputs: outputIds(parsed, registry),
  };
}

/**
 * A posted prompt as it runs: Runway nodes mapped onto `provider`, and the editor's (or ComfyUI's) UI
 * workflow, which is what the user opened, kept to go into the saved video. A serve --redis worker calls
 * this again on the same inputs. @throws when the prompt is not a workflow.
 */
export function parsePostedPrompt(prompt: unknown, extraData: Record<string, unknown>, registry: NodeRegistry, provider: ProviderId | undefined): ParsedWorkflow {
  const parsed = parseUserWorkflow(prompt, registry, provider);
  const ui = uiWorkflowOf(extraData);
  if (ui !== undefined) {
    // Set in place, not spread: a spread would compute the (lazy) API prompt here for nothing.
    parsed.ui = ui;
    parsed.opened = undefined;
  }
  return parsed;
}

function refuse(answer: unknown): PromptCheck {
  return { ok: false, status: 400, answer };
}

/** Output node ids in the order Object.keys gives them for the API prompt (integer-like ids first), without building it. */
function outputIds(parsed: ParsedWorkflow, registry: NodeRegistry): string[] {
  const ordered: Record<string, true> = emptyRecord<true>();
  for (const node of parsed.graph.nodes.values()) if (registry.get(node.type)?.outputNode === true) ordered[node.id] = true;
  return Object.keys(ordered);
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
