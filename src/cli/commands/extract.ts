import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse, requirePositional } from '../args.js';
import { createNodeRegistry } from '../../nodes/index.js';
import { convertWorkflow } from '../../comfy/index.js';
import { readWorkflowMetadata } from '../../sharing/provenance.js';

const USAGE = 'reelgraph extract <video.mp4> [--prompt] [-o FILE]';

/**
 * `reelgraph extract`: the UI workflow embedded in a video (or with --prompt, the API
 * prompt); exit 2 when there is none. A video made from an API prompt alone gets the
 * prompt laid out as a UI workflow, so the editor can open the result either way.
 */
export async function extractCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { prompt: { type: 'boolean' }, output: { type: 'string', short: 'o' } }, USAGE);
  const video = resolve(requirePositional(positionals, 'the video file', USAGE));
  const meta = await readWorkflowMetadata(video);
  const value = values.prompt ? meta.prompt : (meta.workflow ?? uiFromPrompt(meta.prompt));
  if (value === undefined) {
    process.stderr.write(`reelgraph: "${video}" has no embedded ${values.prompt ? 'API prompt' : 'workflow'}.\n`);
    return 2;
  }
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (typeof values.output === 'string') await writeFile(values.output, text);
  else process.stdout.write(text);
  return 0;
}

function uiFromPrompt(prompt: unknown): unknown {
  if (prompt === undefined) return undefined;
  process.stderr.write('Note: the video holds only an API prompt; printing it laid out as a UI workflow.\n');
  return convertWorkflow(prompt, 'ui', createNodeRegistry());
}
