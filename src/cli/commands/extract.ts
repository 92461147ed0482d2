import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse, requirePositional } from '../args.js';
import { readWorkflowMetadata } from '../../runtime/provenance.js';

const USAGE = 'reelgraph extract <video.mp4> [--prompt] [-o FILE]';

/** `reelgraph extract`: the workflow (or with --prompt, the API prompt) embedded in a video; exit 2 when there is none. */
export async function extractCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { prompt: { type: 'boolean' }, output: { type: 'string', short: 'o' } }, USAGE);
  const video = resolve(requirePositional(positionals, 'the video file', USAGE));
  const meta = await readWorkflowMetadata(video);
  const which = values.prompt ? 'prompt' : 'workflow';
  const value = meta[which];
  if (value === undefined) {
    const hint = which === 'workflow' && meta.prompt !== undefined ? ' It has an API prompt: use --prompt.' : '';
    process.stderr.write(`reelgraph: "${video}" has no embedded ${which === 'workflow' ? 'workflow' : 'API prompt'}.${hint}\n`);
    return 2;
  }
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (typeof values.output === 'string') await writeFile(values.output, text);
  else process.stdout.write(text);
  return 0;
}
