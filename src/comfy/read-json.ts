import { readFile, stat } from 'node:fs/promises';
import { WorkflowParseError } from '../engine/errors.js';
import { parseWorkflowText } from './parse-json.js';

export { MAX_NESTING_DEPTH, parseWorkflowText } from './parse-json.js';

/**
 * Reading workflow JSON the way ComfyUI's frontend does (parseJsonWithNonFinite accepts
 * NaN and ±Infinity), but defensively: size, nesting depth and encoding are checked,
 * and keys that could alter object prototypes are refused.
 */

export const MAX_WORKFLOW_BYTES = 64 * 1024 * 1024;

/** @throws WorkflowParseError (exit 2) for a missing, oversized, non-UTF-8 or malformed file. */
export async function readWorkflowFile(path: string): Promise<unknown> {
  const bytes = await readLimited(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new WorkflowParseError(`Workflow file "${path}" is not valid UTF-8 text.`, { cause: error });
  }
  try {
    return parseWorkflowText(text);
  } catch (error) {
    if (error instanceof WorkflowParseError) throw new WorkflowParseError(`Workflow file "${path}": ${error.message}`, { cause: error });
    throw error;
  }
}

async function readLimited(path: string): Promise<Buffer> {
  try {
    const { size } = await stat(path);
    if (size > MAX_WORKFLOW_BYTES) {
      throw new WorkflowParseError(`Workflow file "${path}" is ${size} bytes, over the limit of ${MAX_WORKFLOW_BYTES} bytes (64 MB).`);
    }
    return await readFile(path);
  } catch (error) {
    if (error instanceof WorkflowParseError) throw error;
    throw new WorkflowParseError(`Workflow file "${path}" cannot be read (${codeOf(error)}).`, { cause: error });
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
