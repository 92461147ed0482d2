import { LiteGraph, type LGraphCanvas, type LGraphNode } from '@comfyorg/litegraph';

/**
 * ComfyUI's node modes: 0 runs, 2 "Never" (muted: the node and what only it feeds are left out),
 * 4 "Bypass" (inputs passed through to outputs of the same type; to-api.ts applies both rules).
 * Ctrl+B and Ctrl+M toggle them on the selection, and nodes look the way ComfyUI draws them:
 * bypassed ones tinted magenta, muted ones faded.
 */

export const MODES = { always: 0, never: 2, bypass: 4 } as const;

/** The Mode submenu: only the modes ComfyUI offers, not litegraph's "On Event" / "On Trigger". */
export const MODE_CHOICES: { label: string; mode: number }[] = [
  { label: 'Always', mode: MODES.always },
  { label: 'Never (mute)', mode: MODES.never },
  { label: 'Bypass', mode: MODES.bypass },
];

export function selectedNodes(canvas: LGraphCanvas): LGraphNode[] {
  return Object.values(canvas.selected_nodes ?? {}) as LGraphNode[];
}

/** litegraph's changeMode refuses 4 (Bypass), which only ComfyUI's frontend knows. */
function setMode(node: LGraphNode, mode: number): void {
  node.mode = mode as LGraphNode['mode'];
}

/** Sets `mode` on every selected node, or back to Always when all of them already have it. */
export function toggleMode(canvas: LGraphCanvas, mode: number): boolean {
  const nodes = selectedNodes(canvas);
  if (nodes.length === 0) return false;
  const next = nodes.every((node) => node.mode === mode) ? MODES.always : mode;
  for (const node of nodes) setMode(node, next);
  canvas.setDirty(true, true);
  return true;
}

/** Shows the Mode submenu for a node (and the rest of the selection). */
export function showModeMenu(canvas: LGraphCanvas, node: LGraphNode, event: MouseEvent, parent: unknown, changed: () => void): void {
  new LiteGraph.ContextMenu(
    MODE_CHOICES.map((choice) => ({ content: `${node.mode === choice.mode ? '✓ ' : ''}${choice.label}`, mode: choice.mode })),
    {
      event,
      parentMenu: parent as never,
      callback: (value: unknown) => {
        const mode = (value as { mode: number }).mode;
        const nodes = selectedNodes(canvas);
        for (const target of nodes.includes(node) ? nodes : [node]) setMode(target, mode);
        canvas.setDirty(true, true);
        changed();
      },
    } as never,
  );
}

/** Called from each node's onDrawForeground (node-local coordinates, title included above 0). */
export function drawModeLook(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
  if (node.mode !== MODES.bypass && node.mode !== MODES.never) return;
  const title = LiteGraph.NODE_TITLE_HEIGHT;
  ctx.save();
  ctx.fillStyle = node.mode === MODES.bypass ? 'rgba(255, 0, 255, 0.22)' : 'rgba(20, 20, 24, 0.55)';
  ctx.beginPath();
  ctx.roundRect(0, -title, node.size[0]!, node.size[1]! + title, 8);
  ctx.fill();
  ctx.fillStyle = node.mode === MODES.bypass ? '#ff9cff' : '#9a9ca3';
  ctx.font = 'bold 11px sans-serif';
  ctx.textAlign = 'right';
  ctx.fillText(node.mode === MODES.bypass ? 'BYPASS' : 'MUTED', node.size[0]! - 10, -title / 2 + 4);
  ctx.restore();
}
