import { parse } from '../args.js';
import { objectInfo } from '../../comfy/object-info.js';
import { createNodeRegistry } from '../../nodes/index.js';

/** `reelgraph nodes [--json]`: every node definition, in ComfyUI's /object_info shape. */
export async function nodesCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 'reelgraph nodes [--json]');
  const registry = createNodeRegistry();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(objectInfo(registry), null, 2)}\n`);
    return 0;
  }
  for (const node of registry.list()) {
    const inputs = Object.entries(node.inputs).map(([name, socket]) => `${name}: ${socket.type}`);
    const params = Object.keys(node.params.shape);
    const outputs = node.outputs.map((output) => output.type);
    process.stdout.write(`${node.type} v${node.version} (${node.category}) — ${node.description}\n`);
    process.stdout.write(`  inputs: ${inputs.join(', ') || '—'}; params: ${params.join(', ') || '—'}; outputs: ${outputs.join(', ') || '—'}\n`);
  }
  return 0;
}
