import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineNode, type PackContext } from './services.js';
import { messageOf } from '../engine/errors.js';
import { embedWorkflowMetadata } from '../sharing/provenance.js';
import { downloadToFile, DownloadError, hasMp4Signature } from './download.js';
import { sha256File } from './content-hash.js';
import { claimOutputName, prefixProblem, resolveOutputTarget } from './output-path.js';
import { nodeIssue } from './issues.js';
import { existingStepsInside } from './paths.js';
import { partialPath, removeStalePartials } from './partials.js';
import { SavedVideoSchema, VideoRefSchema, type SavedVideo, type VideoRef } from './values.js';

const TYPE = 'SaveVideo';

const params = z.object({
  filename_prefix: z.string().default('reelgraph/video'),
  format: z.enum(['auto', 'mp4']).default('auto'),
  codec: z.enum(['auto', 'h264']).default('auto'),
});

const OutputsSchema = z.object({ files: z.array(SavedVideoSchema) });

/** A fresh output URL for the task (signed URLs expire; the provider re-signs on every fetch). */
async function freshUrl(video: VideoRef, ctx: PackContext): Promise<string> {
  const provider = ctx.services.providers.get(video.task.provider, video.task.baseUrl);
  const status = await provider.getTask(video.task.taskId, { signal: ctx.signal });
  const url = status.state === 'succeeded' ? status.videoUrls[0] : undefined;
  if (!url) throw new DownloadError(`the video URL expired and ${video.task.provider} task ${video.task.taskId} no longer offers one (state ${status.state})`);
  return url;
}

function reportDownload(ctx: PackContext, bytes: number, total: number | undefined): void {
  const note = `${(bytes / 1e6).toFixed(1)} MB${total ? ` of ${(total / 1e6).toFixed(1)} MB` : ''}`;
  ctx.progress({ value: total ? Math.round((bytes / total) * 100) : 0, max: 100, phase: 'downloading', note });
}

/** The workflow and prompt go into the MP4 as ComfyUI writes them; a failure costs the provenance, never the paid video. */
/**
 * The workflow with how its image was sent (and fitted) under `extra`, where ComfyUI keeps what is not a node. An
 * image sent as it was leaves the workflow byte for byte what the user opened.
 */
function withImageRecord(ui: unknown, image: VideoRef['task']['image']): unknown {
  if (!image || (image.fit === undefined && image.route === 'data-uri') || typeof ui !== 'object' || ui === null || Array.isArray(ui)) return ui;
  const workflow = ui as { extra?: unknown };
  const extra = typeof workflow.extra === 'object' && workflow.extra !== null ? workflow.extra : {};
  return { ...workflow, extra: { ...extra, reelgraph_image: image } };
}

async function embedProvenance(path: string, video: VideoRef, ctx: PackContext): Promise<void> {
  const workflow = ctx.workflow;
  if (!workflow || workflow.embed === false || (workflow.ui === undefined && workflow.api === undefined)) return;
  try {
    await embedWorkflowMetadata(path, { workflow: withImageRecord(workflow.ui, video.task.image), prompt: workflow.api, reelgraph_workflow: workflow.mapped }, { env: ctx.env });
  } catch (error) {
    ctx.log.warn(`could not embed the workflow in the saved video: ${messageOf(error)}`);
  }
}

async function downloadAndSave(video: VideoRef, prefix: string, ctx: PackContext): Promise<SavedVideo> {
  const target = await resolveOutputTarget(ctx.files.outputDir, prefix);
  const stale = await removeStalePartials(target.dir);
  if (stale.length > 0) ctx.log.info(`removed ${stale.length} half-written download(s) left by a killed run`);
  // Dot-prefixed so a half-written file is never mistaken for an output, and removed on any failure.
  const temp = partialPath(target.dir, target.base);
  try {
    await downloadToFile({
      http: ctx.services.http,
      url: video.url,
      dest: temp,
      signal: ctx.signal,
      log: ctx.log,
      refreshUrl: () => freshUrl(video, ctx),
      onProgress: (written, total) => reportDownload(ctx, written, total),
    });
    if (!(await hasMp4Signature(temp))) {
      throw new DownloadError(`the downloaded video from ${video.task.provider} task ${video.task.taskId} is not an MP4 (no ftyp box at offset 4)`);
    }
    await embedProvenance(temp, video, ctx);
    const bytes = (await stat(temp)).size;
    const sha256 = await sha256File(temp);
    const filename = await claimOutputName(temp, target, 'mp4');
    return { filename, subfolder: target.subfolder, type: 'output', path: join(target.dir, filename), bytes, sha256 };
  } finally {
    await rm(temp, { force: true });
  }
}

export const saveVideo = defineNode({
  type: TYPE,
  version: 1,
  displayName: 'Save Video',
  category: 'video',
  description: 'Downloads the video into the output folder as {filename_prefix}_{counter:05}_.mp4.',
  inputs: { video: { type: 'VIDEO' } },
  params,
  widgets: { filename_prefix: { tooltip: 'May contain a subfolder inside the output folder' } },
  outputs: [],
  outputNode: true,
  // Checked before anything is paid for: a prefix SaveVideo would refuse must not cost a generation first.
  async validate(p, ctx) {
    const folders = p.filename_prefix.replace(/\\/g, '/').split('/').slice(0, -1).join('/');
    // Once per folder in a run: many SaveVideos share one.
    const inside = () => existingStepsInside(ctx.files.outputDir, folders);
    const problem =
      prefixProblem(p.filename_prefix) ??
      ((await (ctx.shared ? ctx.shared(`SaveVideo:${folders}`, inside) : inside())) ? undefined : 'resolves (through a symlink) outside the output folder');
    if (!problem) return [];
    return [nodeIssue({ nodeId: ctx.nodeId, nodeType: TYPE }, 'filename_prefix', 'custom_validation_failed', 'Invalid filename_prefix', `${JSON.stringify(p.filename_prefix)} ${problem}`)];
  },
  async run(inputs, p, ctx) {
    const video = VideoRefSchema.parse(inputs.video);
    const saved = await downloadAndSave(video, p.filename_prefix, ctx);
    await ctx.services.journal?.recordState(video.task, 'saved', { output: saved.path });
    return { files: [saved] };
  },
  uiOutput(outputs) {
    const parsed = OutputsSchema.safeParse(outputs);
    const entries = parsed.success ? parsed.data.files.map((f) => ({ filename: f.filename, subfolder: f.subfolder, type: f.type })) : [];
    return { images: entries, animated: [true], videos: entries };
  },
  async isCacheValid(outputs) {
    const parsed = OutputsSchema.safeParse(outputs);
    if (!parsed.success) return false;
    for (const file of parsed.data.files) {
      const size = await stat(file.path).then((s) => s.size, () => -1);
      if (size !== file.bytes) return false;
    }
    return true;
  },
});
