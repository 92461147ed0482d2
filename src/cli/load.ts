import { dirname, resolve } from 'node:path';
import { parseWorkflow, type ParsedWorkflow } from '../runtime/formats/index.js';
import { readWorkflowFile } from '../runtime/load-workflow.js';
import { createNodeRegistry } from '../nodes/index.js';

export interface LoadedWorkflow {
  path: string;
  parsed: ParsedWorkflow;
  /** The folder relative image paths resolve in by default: the workflow file's own. */
  folder: string;
}

/** Reads and parses a workflow file (UI 0.4, UI v1 or API format). */
export async function loadWorkflow(file: string): Promise<LoadedWorkflow> {
  const path = resolve(file);
  const json = await readWorkflowFile(path);
  return { path, parsed: parseWorkflow(json, createNodeRegistry()), folder: dirname(path) };
}
