import type { LGraph, LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';
import { viewUrl } from './api.js';

/**
 * Video previews on output nodes: a real <video> element laid over the canvas and kept
 * on the node as the view pans and zooms (litegraph draws on canvas only).
 */

const PREVIEW_HEIGHT = 220;
const previews = new Map<string, HTMLVideoElement>();

interface OutputFile {
  filename: string;
  subfolder?: string;
  type?: string;
}

/** The first video-like file in an `executed` output (`images` with animated, or `videos`/`gifs`). */
export function videoFileOf(output: Record<string, unknown>): OutputFile | undefined {
  for (const key of ['videos', 'gifs', 'images']) {
    const list = output[key];
    if (!Array.isArray(list)) continue;
    const file = list.find((item): item is OutputFile => typeof item === 'object' && item !== null && typeof (item as OutputFile).filename === 'string');
    if (file && /\.(mp4|webm|mov)$/i.test(file.filename)) return file;
  }
  return undefined;
}

export function showVideo(layer: HTMLElement, node: LGraphNode, file: OutputFile): void {
  const id = String(node.id);
  let video = previews.get(id);
  if (!video) {
    video = Object.assign(document.createElement('video'), { controls: true, loop: true, muted: true, autoplay: true, playsInline: true });
    video.className = 'node-preview';
    video.dataset.nodeId = id;
    layer.append(video);
    previews.set(id, video);
  }
  video.src = viewUrl(file);
  const base = node.computeSize();
  node.setSize([Math.max(node.size[0] ?? 0, 320), Math.max(base[1] ?? 0, 0) + PREVIEW_HEIGHT + 12]);
  node.setDirtyCanvas(true, true);
}

export function clearPreviews(): void {
  for (const video of previews.values()) video.remove();
  previews.clear();
}

/** Called after every canvas draw: places each preview on its node, or hides it. */
export function positionPreviews(graph: LGraph, canvas: LGraphCanvas): void {
  const { scale, offset } = canvas.ds;
  for (const [id, video] of previews) {
    const node = graph.getNodeById(Number(id)) ?? graph.getNodeById(id);
    if (!node) {
      video.remove();
      previews.delete(id);
      continue;
    }
    const width = (node.size[0] ?? 0) - 16;
    const top = (node.size[1] ?? 0) - PREVIEW_HEIGHT - 6;
    video.style.display = node.flags.collapsed ? 'none' : 'block';
    video.style.left = `${(node.pos[0]! + 8 + offset[0]!) * scale}px`;
    video.style.top = `${(node.pos[1]! + top + offset[1]!) * scale}px`;
    video.style.width = `${width * scale}px`;
    video.style.height = `${PREVIEW_HEIGHT * scale}px`;
  }
}
