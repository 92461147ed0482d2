import { flattenSubgraphs, hasSubgraphs, parseWorkflow, type ParsedWorkflow } from '../comfy/index.js';
import type { NodeRegistry } from '../engine/registry.js';
import type { ProviderId } from '../providers/provider.js';
import { prepareWorkflowJson } from '../sharing/comfy-runway-import.js';

/**
 * A workflow document as a user hands it to us: subgraphs flattened (so a ComfyUI Runway node inside one is
 * found), then workflows written for ComfyUI's own Runway nodes mapped onto ours (on `provider`, default runway),
 * before the pure ComfyUI parser sees them. When that changed anything, `opened` keeps the user's document.
 * @throws WorkflowParseError when the document is not a workflow.
 */
export function parseUserWorkflow(json: unknown, registry: NodeRegistry, provider?: ProviderId): ParsedWorkflow {
  const flat = hasSubgraphs(json) ? flattenSubgraphs(json as Record<string, unknown>) : undefined;
  const prepared = prepareWorkflowJson(flat?.doc ?? json, { provider, registry });
  const parsed = parseWorkflow(prepared, registry, { where: flat?.paths });
  if (prepared !== json && typeof json === 'object' && json !== null && !Array.isArray(json)) parsed.opened = json as Record<string, unknown>;
  return parsed;
}
