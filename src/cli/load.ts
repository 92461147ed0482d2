import { dirname, resolve } from 'node:path';
import type { ParsedWorkflow } from '../comfy/index.js';
import { parseUserWorkflow } from '../app/parse.js';
import { readWorkflowFile } from '../comfy/read-json.js';
import { openBundle, isBundlePath } from '../sharing/bundle.js';
import { isVideoPath, readEmbeddedWorkflow } from '../sharing/provenance.js';
import { createNodeRegistry } from '../nodes/index.js';
import type { ProviderId } from '../providers/provider.js';

export interface LoadedWorkflow {
  path: string;
  parsed: ParsedWorkflow;
  /** The folder relative image paths resolve in by default: the workflow file's own. */
  folder: string;
  /** Removes what loading created (an extracted bundle); call it when the run is over. */
  cleanup?(): Promise<void>;
}

/**
 * Reads and parses a workflow file (UI 0.4, UI v1 or API format), a video with an
 * embedded workflow, or a bundle zip. ComfyUI Runway nodes are mapped onto ours for `provider`.
 */
export async function loadWorkflow(file: string, options: { provider?: ProviderId; embedded?: 'opened' | 'mapped' } = {}): Promise<LoadedWorkflow> {
  const path = resolve(file);
  if (isBundlePath(path)) {
    const bundle = await openBundle(path);
    try {
      // The zip, not the temp copy, names the workflow: job keys and `jobs resume` need a path that lasts.
      return { ...(await loadWorkflow(bundle.workflowPath, options)), path, cleanup: bundle.cleanup };
    } catch (error) {
      await bundle.cleanup();
      throw error;
    }
  }
  const json = isVideoPath(path) ? await readEmbeddedWorkflow(path, options.embedded) : await readWorkflowFile(path);
  const registry = createNodeRegistry();
  return { path, parsed: parseUserWorkflow(json, registry, options.provider), folder: dirname(path) };
}
