import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The example workflow (LoadImage → … → SaveVideo), edited by an attack and written with its image into `folder`. */
export interface ExampleNode {
  id: number | string;
  type: string;
  widgets_values: unknown[];
  properties?: Record<string, unknown>;
  inputs?: { name: string; type: string; link: number | null }[];
  outputs?: { name: string; type: string; links: number[] | null }[];
}
export interface ExampleWorkflow {
  nodes: ExampleNode[];
  links: unknown[];
  [key: string]: unknown;
}

export async function exampleWorkflow(): Promise<ExampleWorkflow> {
  return JSON.parse(await readFile(resolve('examples/runway-gen4-turbo.json'), 'utf8')) as ExampleWorkflow;
}

export function nodeOfType(workflow: ExampleWorkflow, type: string): ExampleNode {
  const node = workflow.nodes.find((n) => n.type === type);
  if (!node) throw new Error(`example has no ${type}`);
  return node;
}

/** Writes `<folder>/<name>.json` and `<folder>/images/sunset.jpg`; returns the workflow path. */
export async function writeWorkflow(folder: string, name: string, workflow: unknown): Promise<string> {
  await mkdir(join(folder, 'images'), { recursive: true });
  await copyFile(resolve('examples/images/sunset.jpg'), join(folder, 'images', 'sunset.jpg'));
  const path = join(folder, `${name}.json`);
  await writeFile(path, typeof workflow === 'string' ? workflow : JSON.stringify(workflow));
  return path;
}
