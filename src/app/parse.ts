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
  const where = new Map(flat?.paths);
  // The ValidateImage and Poll added for a mapped Runway node inside a subgraph are named by that node's path.
  const onInserted = (insertedId: string, mappedId: string): void => {
    const path = where.get(mappedId);
    if (path !== undefined) where.set(insertedId, path);
  };
  const prepared = prepareWorkflowJson(flat?.doc ?? json, { provider, registry, onInserted });
  const parsed = parseWorkflow(prepared, registry, { where });
  if (prepared !== json && typeof json === 'object' && json !== null && !Array.isArray(json)) parsed.opened = json as Record<string, unknown>;
  return parsed;
}
