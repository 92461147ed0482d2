import { resolve } from 'node:path';
import { allowPrivateUrls, parse, requirePositional } from '../args.js';
import { loadWorkflow } from '../load.js';
import { providerOption } from './dry-run.js';
import { validateWorkflow } from '../../app/run.js';
import { formatIssue } from '../../engine/errors.js';
import type { ValidationResult } from '../../engine/validate.js';
import { IMAGE_OPTIONS, IMAGE_USAGE, imageOptions } from '../image-options.js';

const USAGE = `reelgraph validate <workflow> [--input-dir DIR] [--output-dir DIR] [--json] [--provider runway|cometapi|runcomfy] ${IMAGE_USAGE} [--allow-private-urls]`;

/** `reelgraph validate`: every problem at once; exit 0 when valid, 2 otherwise. */
export async function validateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { 'input-dir': { type: 'string' }, 'output-dir': { type: 'string' }, ...IMAGE_OPTIONS, json: { type: 'boolean' }, provider: { type: 'string' }, 'allow-private-urls': { type: 'boolean' } },
    USAGE,
  );
  allowPrivateUrls(values['allow-private-urls']);
  const images = imageOptions(values);
  const workflow = await loadWorkflow(requirePositional(positionals, 'the workflow file', USAGE), { provider: providerOption(values.provider) });
  const result = await validateWorkflow(workflow.parsed, {
    inputDir: resolve(values['input-dir'] ?? workflow.folder),
    outputDir: resolve(values['output-dir'] ?? 'output'),
    ...images,
  }).finally(() => workflow.cleanup?.());
  printValidation(result, values.json === true);
  if (result.ok && !values.json) process.stderr.write('Valid: no problems found.\n');
  return result.ok ? 0 : 2;
}

/** One readable line per problem on stderr, or ComfyUI's structure as JSON on stdout. */
export function printValidation(result: ValidationResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result.ok ? { ok: true } : result.comfy)}\n`);
    return;
  }
  if (result.ok) return;
  // One problem is one sentence on one line; several get a list.
  if (result.issues.length === 1) {
    process.stderr.write(`Nothing was run: ${formatIssue(result.issues[0]!)}\n`);
    return;
  }
  process.stderr.write(`${result.issues.length} problem${result.issues.length === 1 ? '' : 's'} found; nothing was run:\n`);
  for (const issue of result.issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
}
