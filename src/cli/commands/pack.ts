import { resolve } from 'node:path';
import { parse, requirePositional, UsageError } from '../args.js';
import { packWorkflow } from '../../sharing/bundle.js';

const USAGE = 'reelgraph pack <workflow.json> -o bundle.zip';

/** `reelgraph pack`: the workflow and the local images it uses, in one zip that `reelgraph run bundle.zip` runs. */
export async function packCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' } }, USAGE);
  const workflow = requirePositional(positionals, 'the workflow file', USAGE);
  if (typeof values.output !== 'string') throw new UsageError(`Missing -o bundle.zip.\nUsage: ${USAGE}`);
  const out = resolve(values.output);
  const { images } = await packWorkflow(resolve(workflow), out);
  process.stderr.write(`Packed ${workflow} with ${images.length} image${images.length === 1 ? '' : 's'} into ${out}\n`);
  return 0;
}
