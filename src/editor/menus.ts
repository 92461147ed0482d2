import { LGraphCanvas, type LGraphNode } from '@comfyorg/litegraph';
import { showModeMenu } from './modes.js';

/**
 * The canvas and node context menus, trimmed to what works here: litegraph 0.17's
 * "Convert to Subgraph" needs the subgraph support of ComfyUI's own frontend (it threw and
 * deleted the selection), so it is not offered. The Mode submenu offers ComfyUI's modes.
 */

type MenuEntry = { content?: string; callback?: unknown; has_submenu?: boolean } | null;

const UNSUPPORTED = /^Convert to Subgraph/;

export function trimMenus(canvas: LGraphCanvas, changed: () => void): void {
  const nodeMenu = LGraphCanvas.prototype.getNodeMenuOptions;
  const canvasMenu = LGraphCanvas.prototype.getCanvasMenuOptions;
  canvas.getNodeMenuOptions = function (node: LGraphNode) {
    const entries = withoutUnsupported(nodeMenu.call(this, node) as MenuEntry[]).map((entry) =>
      entry?.content === 'Mode'
        ? { ...entry, callback: (_value: unknown, _options: unknown, event: MouseEvent, menu: unknown) => showModeMenu(canvas, node, event, menu, changed) }
        : entry,
    );
    return entries as ReturnType<typeof nodeMenu>;
  };
  canvas.getCanvasMenuOptions = function () {
    return withoutUnsupported(canvasMenu.call(this) as MenuEntry[]) as ReturnType<typeof canvasMenu>;
  };
}

function withoutUnsupported(entries: MenuEntry[]): MenuEntry[] {
  return entries.filter((entry) => !entry?.content || !UNSUPPORTED.test(entry.content));
}
