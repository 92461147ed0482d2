import { LGraphCanvas, LiteGraph } from '@comfyorg/litegraph';

/**
 * The node search box, as ComfyUI's: opened from a link dropped on empty canvas (its "Search"
 * entry, or Shift+release), it lists only the nodes that can take the dragged socket's type
 * (an input of that type when dragging from an output, and the reverse). litegraph 0.17 called
 * the search box unbound from that menu ("reading 'scale'"), and its own type filter needs slot
 * registries we do not fill, so both are replaced here; double-click search is unchanged.
 */

interface SearchOptions {
  type_filter_in?: unknown;
  type_filter_out?: unknown;
  [key: string]: unknown;
}

/** Node types with an input (`side: 'in'`) or output (`'out'`) of `type`. */
export function typesAccepting(type: string, side: 'in' | 'out'): string[] {
  const matches: string[] = [];
  for (const [name, ctor] of Object.entries(LiteGraph.registered_node_types)) {
    const slots = side === 'in' ? (ctor as { slotTypes?: { inputs: string[] } }).slotTypes?.inputs : (ctor as { slotTypes?: { outputs: string[] } }).slotTypes?.outputs;
    if (slots?.includes(type)) matches.push(name);
  }
  return matches;
}

export function setupLinkSearch(canvas: LGraphCanvas): void {
  let filter: { type: string; side: 'in' | 'out' } | undefined;
  const showSearchBox = LGraphCanvas.prototype.showSearchBox;
  canvas.showSearchBox = function (event: MouseEvent, options?: SearchOptions) {
    const typeIn = options?.type_filter_in;
    const typeOut = options?.type_filter_out;
    filter = typeof typeIn === 'string' && typeIn ? { type: typeIn, side: 'in' } : typeof typeOut === 'string' && typeOut ? { type: typeOut, side: 'out' } : undefined;
    return showSearchBox.call(canvas, event, { ...options, do_type_filter: false } as never);
  } as typeof canvas.showSearchBox;
  const showConnectionMenu = LGraphCanvas.prototype.showConnectionMenu;
  canvas.showConnectionMenu = function (options: Record<string, unknown>) {
    return showConnectionMenu.call(canvas, { ...options, showSearchBox: (event: MouseEvent, search: SearchOptions) => canvas.showSearchBox(event, search as never) } as never);
  } as typeof canvas.showConnectionMenu;
  canvas.onSearchBox = (_helper: unknown, text: string) => {
    const query = text.toLowerCase();
    const allowed = filter ? new Set(typesAccepting(filter.type, filter.side)) : undefined;
    return Object.entries(LiteGraph.registered_node_types)
      .filter(([name]) => !allowed || allowed.has(name))
      .filter(([name, ctor]) => !query || name.toLowerCase().includes(query) || String(ctor.title ?? '').toLowerCase().includes(query))
      .map(([name]) => name);
  };
}
