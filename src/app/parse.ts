import { parseWorkflow, type ParsedWorkflow } from '../comfy/index.js';
import type { NodeRegistry } from '../engine/registry.js';
import type { ProviderId } from '../providers/provider.js';
import { prepareWorkflowJson } from '../sharing/comfy-runway-import.js';

/**
 * A workflow document as a user hands it to us: workflows written for ComfyUI's own Runway nodes are mapped onto
 * ours (on `provider`, default runway) before the pure ComfyUI parser sees them.
 * @throws WorkflowParseError when the document is not a workflow.
 */
export function parseUserWorkflow(json: unknown, registry: NodeRegistry, provider?: ProviderId): ParsedWorkflow {
  return parseWorkflow(prepareWorkflowJson(json, { provider, registry }), registry);
}
