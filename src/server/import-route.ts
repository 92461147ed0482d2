import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROVIDER_IDS } from '../providers/catalog.js';
import type { ProviderId } from '../providers/provider.js';
import { importComfyWorkflow, prepareWorkflowJson } from '../sharing/comfy-runway-import.js';
import type { NodeRegistry } from '../engine/registry.js';
import { HttpError, isRecord, readJson, sendJson } from './http-util.js';

const MAX_WORKFLOW_BYTES = 10 * 1024 * 1024;

/**
 * POST /reelgraph/import[?provider=runway|cometapi|runcomfy] with a workflow as the body:
 * ComfyUI's Runway nodes mapped onto ours, the way the CLI loads the same file, so the
 * editor shows what `reelgraph run` would run. Answers
 * `{workflow, mapped: [node ids], unsupported: [{id, type}]}`. The Host/Origin checks every
 * request gets are applied before routing (server/index.ts), so they hold here too.
 */
export async function postImport(request: IncomingMessage, response: ServerResponse, url: URL, registry: NodeRegistry): Promise<void> {
  const provider = providerParam(url);
  const body = await readJson(request, MAX_WORKFLOW_BYTES);
  if (!isRecord(body) || Object.keys(body).length === 0) throw new HttpError(400, 'The request body must be a ComfyUI workflow (UI JSON or API prompt)');
  const result = importComfyWorkflow(body, { provider, registry });
  // Node version migrations too, as every other loader applies them (no Runway nodes are left to map).
  const workflow = prepareWorkflowJson(result.json, { provider, registry });
  sendJson(response, 200, { workflow, mapped: result.mapped, unsupported: result.unsupported });
}

function providerParam(url: URL): ProviderId {
  const value = url.searchParams.get('provider');
  if (value === null || value === '') return 'runway';
  if (!(PROVIDER_IDS as string[]).includes(value)) {
    throw new HttpError(400, `Unknown provider "${value}": use one of ${PROVIDER_IDS.join(', ')}`);
  }
  return value as ProviderId;
}
