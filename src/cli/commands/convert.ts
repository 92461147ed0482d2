import { writeFile } from 'node:fs/promises';
import { parse, requirePositional, UsageError } from '../args.js';
import { readWorkflowFile } from '../../comfy/read-json.js';
import { convertWorkflow } from '../../comfy/index.js';
import { createNodeRegistry } from '../../nodes/index.js';
import { prepareWorkflowJson } from '../../sharing/comfy-runway-import.js';

const USAGE = 'reelgraph convert <workflow> --to api|ui [-o FILE]';

/** `reelgraph convert`: UI workflow ⇄ API prompt, through the node definitions. */
export async function convertCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { to: { type: 'string' }, output: { type: 'string', short: 'o' } }, USAGE);
  const to = values.to;
  if (to !== 'api' && to !== 'ui') throw new UsageError(`--to must be "api" or "ui".\nUsage: ${USAGE}`);
  const json = await readWorkflowFile(requirePositional(positionals, 'the workflow file', USAGE));
  const registry = createNodeRegistry();
  const text = `${JSON.stringify(convertWorkflow(prepareWorkflowJson(json, { registry }), to, registry), null, 2)}\n`;
  if (values.output) await writeFile(values.output, text);
  else process.stdout.write(text);
  return 0;
}
