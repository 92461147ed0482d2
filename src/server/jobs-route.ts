import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';
import type { JobView, ServerQueue } from './queue.js';

/**
 * GET /api/jobs and /api/jobs/{id}: the queue and history as ComfyUI's newer builds list them
 * (comfy_execution/jobs.py; docs/comfyui.md "Subgraphs…" §5). Served only under /api, as there.
 */

const STATUSES = new Set(['pending', 'in_progress', 'completed', 'failed', 'cancelled']);

export async function listJobs(response: ServerResponse, url: URL, queue: ServerQueue): Promise<void> {
  const query = url.searchParams;
  const statuses = query.get('status')?.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = statuses?.find((status) => !STATUSES.has(status));
  if (bad !== undefined) return sendJson(response, 400, { error: `Invalid status: ${bad}` });
  const sortBy = query.get('sort_by') ?? 'created_at';
  if (sortBy !== 'created_at' && sortBy !== 'execution_duration') return sendJson(response, 400, { error: 'sort_by must be created_at or execution_duration' });
  const sortOrder = query.get('sort_order') ?? 'desc';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') return sendJson(response, 400, { error: 'sort_order must be asc or desc' });
  const limit = query.get('limit') === null ? undefined : Number(query.get('limit'));
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return sendJson(response, 400, { error: 'limit must be a positive integer' });
  const offset = query.get('offset') === null ? 0 : Number(query.get('offset'));
  if (!(Number.isInteger(offset) && offset >= 0)) return sendJson(response, 400, { error: 'offset must be a non-negative integer' });
  const workflowId = query.get('workflow_id');

  const jobs = (await queue.jobs()).filter((job) => (!statuses || statuses.includes(job.status)) && (workflowId === null || workflowIdOf(job) === workflowId));
  const key = (job: JobView) => (sortBy === 'created_at' ? job.times.created : duration(job) ?? -1);
  jobs.sort((a, b) => (sortOrder === 'asc' ? key(a) - key(b) : key(b) - key(a)));
  const page = jobs.slice(offset, limit === undefined ? undefined : offset + limit);
  sendJson(response, 200, {
    jobs: page.map(summaryOf),
    pagination: { offset, limit: limit ?? null, total: jobs.length, has_more: offset + page.length < jobs.length },
  });
}

export async function getJob(response: ServerResponse, id: string, queue: ServerQueue): Promise<void> {
  const job = (await queue.jobs()).find((candidate) => candidate.item.promptId === id);
  if (!job) return sendJson(response, 404, { error: 'Job not found' });
  const detail: Record<string, unknown> = {
    ...summaryOf(job),
    outputs: job.entry?.outputs ?? {},
    workflow: { prompt: job.item.prompt, extra_data: job.item.extraData },
  };
  if (job.entry) detail.execution_status = job.entry.status;
  sendJson(response, 200, detail);
}

function summaryOf(job: JobView): Record<string, unknown> {
  const outputs = outputFiles(job);
  const preview = outputs[0];
  const fields: Record<string, unknown> = {
    id: job.item.promptId,
    status: job.status,
    priority: job.item.number,
    create_time: job.times.created,
    outputs_count: outputs.length,
    workflow_id: workflowIdOf(job),
  };
  if (job.entry) {
    fields.execution_start_time = job.times.started;
    fields.execution_end_time = job.times.ended;
    fields.previewable_outputs_count = outputs.length;
    if (preview) fields.preview_output = preview;
  }
  // ComfyUI removes null fields.
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null));
}

/** Every file a finished job's nodes reported (`images` holds videos too, with `animated`). */
function outputFiles(job: JobView): Record<string, unknown>[] {
  const files: Record<string, unknown>[] = [];
  for (const [nodeId, output] of Object.entries(job.entry?.outputs ?? {})) {
    for (const file of (Array.isArray(output.images) ? output.images : []) as Record<string, unknown>[]) {
      const video = /\.(mp4|webm|mov)$/i.test(String(file.filename));
      files.push({ filename: file.filename, subfolder: file.subfolder, type: file.type, nodeId, mediaType: video ? 'video' : 'images' });
    }
  }
  return files;
}

function duration(job: JobView): number | undefined {
  return job.times.started !== undefined && job.times.ended !== undefined ? job.times.ended - job.times.started : undefined;
}

function workflowIdOf(job: JobView): string | undefined {
  const pnginfo = job.item.extraData.extra_pnginfo as { workflow?: { id?: unknown } } | undefined;
  return typeof pnginfo?.workflow?.id === 'string' ? pnginfo.workflow.id : undefined;
}
