import { importWorkflow } from './api.js';
import { missingNodeTypes } from './placeholders.js';
import { subgraphTypes } from './subgraph-nodes.js';

/**
 * What the editor does with a workflow before loading it: when it has node types we lack,
 * the server maps any ComfyUI Runway nodes onto ours (the CLI's mapping, so the editor shows
 * what `reelgraph run` runs), and the status line says what was mapped and what is still missing.
 */

export interface PreparedWorkflow {
  data: unknown;
  status: string;
  tone: 'ok' | 'error';
}

/** The provider mapped Runway nodes call: the page's `?provider=` when given, as the CLI's --provider. */
export function importProvider(search: string): string {
  return new URLSearchParams(search).get('provider') || 'runway';
}

export async function prepareForEditor(data: unknown, name: string, provider: string): Promise<PreparedWorkflow> {
  const opened0 = `Opened ${name}${subgraphNote(data)}`;
  if (missingNodeTypes(data).length === 0) return { data, status: opened0, tone: 'ok' };
  let prepared = data;
  let opened = opened0;
  // Without the server's mapping the graph still opens, with placeholders for what it lacks.
  const result = await importWorkflow(data, provider).catch(() => undefined);
  if (result && result.mapped.length > 0) {
    prepared = result.workflow;
    opened = `Imported a ComfyUI workflow: ${result.mapped.length} Runway node(s) mapped to provider ${provider}${subgraphNote(data)}`;
  }
  const missing = missingNodeTypes(prepared);
  if (missing.length === 0) return { data: prepared, status: opened, tone: 'ok' };
  // One message naming every missing type, so the user sees the whole list at once.
  return { data: prepared, status: `${opened}. Missing node types: ${missing.join(', ')} — kept as placeholders`, tone: 'error' };
}

/** Says which subgraphs the workflow uses, and that they open read-through (subgraph-nodes.ts). */
function subgraphNote(data: unknown): string {
  const names = [...new Set(subgraphTypes(data).values())];
  return names.length === 0 ? '' : ` (subgraph${names.length === 1 ? '' : 's'} ${names.map((n) => `"${n}"`).join(', ')}: read-only inside, runs as saved)`;
}
