import type { LGraphNode } from '@comfyorg/litegraph';
import { viewUrl } from './api.js';

/**
 * LoadImage as ComfyUI shows it: its `image` is a list of the input folder's images (shared by
 * every LoadImage, refreshed after an upload), and the chosen image is drawn in the node as a
 * thumbnail. Only names in the input folder are drawn; an https URL is left as text.
 */

export const THUMB_HEIGHT = 170;

/** The list every LoadImage's combo shows; mutated in place so all of them follow. */
export const imageChoices: string[] = [];

export function setImageChoices(names: readonly string[]): void {
  imageChoices.splice(0, imageChoices.length, ...names);
}

const thumbnails = new Map<string, HTMLImageElement>();

function thumbnail(name: string, redraw: () => void): HTMLImageElement | undefined {
  if (!name || /^[a-z]+:/i.test(name)) return undefined;
  let image = thumbnails.get(name);
  if (!image) {
    const [subfolder, filename] = name.includes('/') ? [name.slice(0, name.lastIndexOf('/')), name.slice(name.lastIndexOf('/') + 1)] : ['', name];
    image = new Image();
    image.alt = name;
    image.onload = redraw;
    image.src = viewUrl({ filename, subfolder, type: 'input' });
    thumbnails.set(name, image);
  }
  return image;
}

/** Forgets a cached thumbnail (the file of that name was just uploaded again). */
export function forgetThumbnail(name: string): void {
  thumbnails.delete(name);
}

/** Called from LoadImage's onDrawBackground: the image, fitted under the widgets. */
export function drawThumbnail(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
  const value = node.widgets?.find((widget) => widget.name === 'image')?.value;
  const image = thumbnail(String(value ?? ''), () => node.setDirtyCanvas(true, false));
  if (!image?.complete || image.naturalWidth === 0) return;
  const last = node.widgets?.at(-1);
  const top = (last?.y ?? 0) + 28;
  const [width, height] = [node.size[0]! - 20, Math.min(THUMB_HEIGHT, node.size[1]! - top - 8)];
  if (height < 20) return;
  const scale = Math.min(width / image.naturalWidth, height / image.naturalHeight);
  const [w, h] = [image.naturalWidth * scale, image.naturalHeight * scale];
  ctx.drawImage(image, 10 + (width - w) / 2, top + (height - h) / 2, w, h);
}

export function isImageFile(file: File): boolean {
  return /^image\/(png|jpeg|webp)$/.test(file.type) || /\.(png|jpe?g|webp)$/i.test(file.name);
}
