import type { ObjectInfo } from './object-info.js';

/** The server calls the editor makes; same origin only. */

export type Catalog = Record<string, { displayName?: string; models: Record<string, { ratios: string[]; durations: number[] } | undefined> }>;

export interface QueueResponse {
  ok: boolean;
  promptId?: string;
  /** ComfyUI's 400 body when validation failed. */
  error?: { type?: string; message?: string; details?: string };
  nodeErrors?: Record<string, { class_type?: string; errors: { message: string; details?: string; extra_info?: { input_name?: string } }[] }>;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.json()) as T;
}

export const fetchObjectInfo = (): Promise<ObjectInfo> => getJson<ObjectInfo>('/api/object_info');
export const fetchCatalog = (): Promise<Catalog> => getJson<Catalog>('/api/reelgraph/catalog').catch(() => ({}));
export const fetchExamples = (): Promise<string[]> => getJson<string[]>('/api/reelgraph/examples').catch(() => []);
/** `serve --emulator`: the providers answer from the built-in emulator. */
/** The images in serve's input folder, as LoadImage names. */
export const fetchInputImages = (): Promise<string[]> => getJson<string[]>('/api/reelgraph/input-images').catch(() => []);
export const fetchMode = (): Promise<{ emulator: boolean }> => getJson<{ emulator: boolean }>('/api/reelgraph/mode').catch(() => ({ emulator: false }));
/** The workflow a fresh editor opens, as ComfyUI opens its default graph: the Runway example. */
export const DEFAULT_WORKFLOW = 'runway-gen4-turbo.json';
export const fetchExample = (name: string): Promise<unknown> => getJson<unknown>(`/api/reelgraph/examples/${encodeURIComponent(name)}`);

/** `estimate`: the cost badge's text when Run was pressed, kept with the run for the history panel. */
export async function queuePrompt(prompt: unknown, workflow: unknown, clientId: string, estimate?: string): Promise<QueueResponse> {
  const response = await fetch('/api/prompt', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, client_id: clientId, extra_data: { extra_pnginfo: { workflow }, reelgraph: { estimate } } }),
  });
  const body = (await response.json().catch(() => ({}))) as { prompt_id?: string; error?: unknown; node_errors?: QueueResponse['nodeErrors'] };
  if (response.ok) return { ok: true, promptId: body.prompt_id };
  const error = typeof body.error === 'string' ? { message: body.error } : (body.error as QueueResponse['error']);
  return { ok: false, error, nodeErrors: body.node_errors ?? {} };
}

/** Records the user's decision to submit again a job whose outcome is unknown (may pay twice); throws with the server's reason. */
export async function submitAgain(prompt: unknown, nodeId: string, jobKey: string | undefined): Promise<void> {
  const response = await fetch('/api/reelgraph/jobs/submit-again', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, node_id: nodeId, ...(jobKey ? { job_key: jobKey } : {}) }),
  });
  if (response.ok) return;
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  throw new Error(body.error?.message ?? `the server answered ${response.status}`);
}

export async function interrupt(): Promise<void> {
  await fetch('/api/interrupt', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
}

/** Uploads an image into the input folder; resolves with the name to put in LoadImage. */
export async function uploadImage(file: File): Promise<string> {
  const form = new FormData();
  form.append('image', file, file.name);
  form.append('type', 'input');
  // Checked as an image by the server at once (the same header check as ValidateImage).
  form.append('check', 'image');
  const response = await fetch('/api/upload/image', { method: 'POST', body: form });
  const body = (await response.json()) as { name?: string; subfolder?: string; error?: string };
  if (!response.ok || !body.name) throw new Error(body.error ?? `upload failed (${response.status})`);
  return body.subfolder ? `${body.subfolder}/${body.name}` : body.name;
}

export function viewUrl(file: { filename: string; subfolder?: string; type?: string }): string {
  const params = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder ?? '', type: file.type ?? 'output' });
  return `/api/view?${params.toString()}`;
}

export interface ImportResponse {
  workflow: unknown;
  /** Ids of the ComfyUI Runway nodes mapped onto ours. */
  mapped: string[];
  unsupported: { id: string; type: string }[];
}

/** ComfyUI's Runway nodes mapped onto ours by the server, as `reelgraph run --provider` would. */
export async function importWorkflow(workflow: unknown, provider: string): Promise<ImportResponse> {
  const response = await fetch(`/api/reelgraph/import?provider=${encodeURIComponent(provider)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(workflow),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<ImportResponse> & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `/api/reelgraph/import answered ${response.status}`);
  return { workflow: body.workflow, mapped: body.mapped ?? [], unsupported: body.unsupported ?? [] };
}
