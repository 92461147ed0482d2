import { LGraphCanvas, type LGraphNode } from '@comfyorg/litegraph';

/**
 * The canvas and node context menus, trimmed to what works here: litegraph 0.17's
 * "Convert to Subgraph" needs the subgraph support of ComfyUI's own frontend (it threw and
 * deleted the selection), so it is not offered.
 */

type MenuEntry = { content?: string; callback?: unknown; has_submenu?: boolean } | null;

const UNSUPPORTED = /^Convert to Subgraph/;

export function trimMenus(canvas: LGraphCanvas): void {
  const nodeMenu = LGraphCanvas.prototype.getNodeMenuOptions;
  const canvasMenu = LGraphCanvas.prototype.getCanvasMenuOptions;
  canvas.getNodeMenuOptions = function (node: LGraphNode) {
    return withoutUnsupported(nodeMenu.call(this, node) as MenuEntry[]) as ReturnType<typeof nodeMenu>;
  };
  canvas.getCanvasMenuOptions = function () {
    return withoutUnsupported(canvasMenu.call(this) as MenuEntry[]) as ReturnType<typeof canvasMenu>;
  };
}

function withoutUnsupported(entries: MenuEntry[]): MenuEntry[] {
  return entries.filter((entry) => !entry?.content || !UNSUPPORTED.test(entry.content));
}
