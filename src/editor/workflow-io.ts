import { LiteGraph, type LGraph, type LGraphNode, type ISerialisedGraph } from '@comfyorg/litegraph';
import { readVideoWorkflowTags } from '../sharing/mp4-tags.js';
import { parseWorkflowText } from '../comfy/parse-json.js';
import { keepPlaceholders } from './placeholders.js';
import { showSubgraphInstances, splitDefinitions, subgraphTypes } from './subgraph-nodes.js';

/** Opening, saving and autosaving workflows: UI JSON (0.4 or 1) and API prompts. */

const AUTOSAVE_KEY = 'reelgraph.workflow';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Loads a UI workflow, or lays out an API prompt; throws on anything else. */
export function loadWorkflowData(graph: LGraph, data: unknown): void {
  if (isRecord(data) && Array.isArray(data.nodes)) {
    const { graphData, definitions } = splitDefinitions(data);
    graph.configure(graphData as unknown as ISerialisedGraph);
    keepPlaceholders(graph, subgraphTypes(data));
    showSubgraphInstances(graph, data, definitions);
    return;
  }
  if (isRecord(data) && Object.values(data).length > 0 && Object.values(data).every((node) => isRecord(node) && typeof node.class_type === 'string')) {
    showSubgraphInstances(graph, {}, undefined);
    loadApiPrompt(graph, data as Record<string, { class_type: string; inputs?: Record<string, unknown>; _meta?: { title?: string } }>);
    return;
  }
  throw new Error('This file is not a ComfyUI workflow or API prompt.');
}

/** API prompts carry no positions: nodes go in columns by depth, like a left-to-right pipeline. */
function loadApiPrompt(graph: LGraph, prompt: Record<string, { class_type: string; inputs?: Record<string, unknown>; _meta?: { title?: string } }>): void {
  graph.clear();
  const created = new Map<string, LGraphNode>();
  const depth = (id: string, seen = new Set<string>()): number => {
    if (seen.has(id)) return 0;
    seen.add(id);
    const links = Object.values(prompt[id]?.inputs ?? {}).filter(isLink);
    return links.length ? 1 + Math.max(...links.map((link) => depth(String(link[0]), seen))) : 0;
  };
  const rows = new Map<number, number>();
  for (const [id, entry] of Object.entries(prompt)) {
    const node = LiteGraph.createNode(entry.class_type, entry._meta?.title);
    if (!node) throw new Error(`Node "${id}": unknown type ${entry.class_type}.`);
    node.id = Number(id);
    const column = depth(id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    node.pos = [60 + column * 360, 80 + row * 320];
    graph.add(node);
    created.set(id, node);
    for (const widget of node.widgets ?? []) {
      const value = entry.inputs?.[widget.name];
      if (value !== undefined && !isLink(value)) widget.value = value as typeof widget.value;
    }
  }
  for (const [id, entry] of Object.entries(prompt)) {
    for (const [name, value] of Object.entries(entry.inputs ?? {})) {
      if (!isLink(value)) continue;
      created.get(String(value[0]))?.connect(value[1], created.get(id)!, name);
    }
  }
}

function isLink(value: unknown): value is [string | number, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[1] === 'number';
}

export function downloadJson(fileName: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function readJsonFile(file: File): Promise<unknown> {
  return parseWorkflowText(await file.text());
}

/** Videos ComfyUI's SaveVideo embeds its workflow in (by name, or by MIME type when the name says nothing). */
export function isVideoFile(file: File): boolean {
  return /\.(mp4|mov|m4v)$/i.test(file.name) || file.type.startsWith('video/');
}

/**
 * The workflow a video carries: the UI workflow when present, else the API prompt.
 * Only box headers and the moov box are read (at most 64 MiB), whatever the file size.
 * @throws Error naming the file when it is not an MP4 or carries neither
 */
export async function readVideoWorkflow(file: File): Promise<unknown> {
  const read = async (offset: number, length: number): Promise<Uint8Array> => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
  const tags = await readVideoWorkflowTags(read, file.size).catch((error: unknown) => {
    throw new Error(`${file.name}: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!tags) throw new Error(`${file.name} is not an MP4/MOV video with a readable movie header.`);
  const workflow = tags.workflow ?? tags.prompt;
  if (workflow === undefined) throw new Error(`${file.name} has no embedded workflow (no "workflow" or "prompt" metadata).`);
  return workflow;
}

/** A dropped or opened file's workflow: JSON as text, or the one embedded in a video. */
export async function readWorkflowFile(file: File): Promise<unknown> {
  if (isVideoFile(file)) return readVideoWorkflow(file);
  try {
    return await readJsonFile(file);
  } catch {
    throw new Error(`${file.name} is not a JSON workflow or a video with one embedded.`);
  }
}

export function autosave(graph: LGraph): void {
  try {
    localStorage.setItem(AUTOSAVE_KEY, JSON.stringify(graph.serialize()));
  } catch {
    // Storage full or disabled: autosave is a convenience, the user can still Save.
  }
}

export function restoreAutosave(graph: LGraph): boolean {
  const text = localStorage.getItem(AUTOSAVE_KEY);
  if (!text) return false;
  try {
    loadWorkflowData(graph, parseWorkflowText(text));
    return true;
  } catch {
    localStorage.removeItem(AUTOSAVE_KEY);
    return false;
  }
}
