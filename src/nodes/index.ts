import type { AnyNodeDefinition } from '../engine/define-node.js';
import { NodeRegistry } from '../engine/registry.js';
import { loadImage } from './load-image.js';
import { poll } from './poll.js';
import { runwayI2V } from './runway-i2v.js';
import { saveVideo } from './save-video.js';
import { validateImage } from './validate-image.js';

/** Every node type, in menu order. The only list of nodes: there is no global registry. */
export const nodes: AnyNodeDefinition[] = [loadImage, validateImage, runwayI2V, poll, saveVideo];

/** A registry of all node types, for the runtime, CLI and server. */
export function createNodeRegistry(): NodeRegistry {
  return new NodeRegistry(nodes);
}

export { loadImage, poll, runwayI2V, saveVideo, validateImage };
