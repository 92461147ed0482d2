import type { IWidget, LGraph, LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';

/**
 * Multiline text params (RunwayI2V's promptText) as a real <textarea> inside the node, the way
 * ComfyUI shows them, instead of litegraph's modal "Value" box (which lost what was typed when
 * the canvas was clicked). Every keystroke is written to the widget at once, so Run, Save and
 * autosave always see what is on screen. The element is laid over the canvas after each draw,
 * at the widget's place, and hidden when its node is off screen, collapsed or gone.
 */

const HEIGHT = 96;
const MIN_SCALE = 0.45;

interface Area {
  element: HTMLTextAreaElement;
  widget: { value: unknown; y?: number };
  node: LGraphNode;
  frame: number;
  y: number;
  width: number;
}

const areas = new Map<object, Area>();
let frame = 0;
let layer: HTMLElement | undefined;

/** Where the text areas live: the overlay above the canvas. */
export function setTextAreaLayer(element: HTMLElement): void {
  layer = element;
}

/** Adds a multiline text widget to a node; `changed` runs after every edit. */
export function addTextArea(node: LGraphNode, name: string, value: string, changed: () => void): void {
  const widget = {
    type: 'reelgraph_textarea',
    name,
    value,
    options: { multiline: true },
    y: 0,
    computeSize: (width?: number): [number, number] => [width ?? 0, HEIGHT],
    draw(_ctx: CanvasRenderingContext2D, drawn: LGraphNode, width: number, y: number): void {
      let area = areas.get(widget);
      if (!area) {
        area = { element: createElement(widget, drawn, name, changed), widget, node: drawn, frame, y, width };
        areas.set(widget, area);
      }
      Object.assign(area, { node: drawn, frame, y, width });
    },
  };
  node.addCustomWidget(widget as unknown as IWidget);
}

function createElement(widget: { value: unknown }, node: LGraphNode, name: string, changed: () => void): HTMLTextAreaElement {
  const element = document.createElement('textarea');
  element.className = 'node-textarea';
  element.spellcheck = false;
  element.placeholder = name;
  element.setAttribute('aria-label', `${node.title}: ${name}`);
  element.value = String(widget.value ?? '');
  element.addEventListener('input', () => {
    widget.value = element.value;
    changed();
  });
  // Keys typed here are text, not canvas shortcuts (litegraph listens on the canvas only; ours on
  // window), except Run (Ctrl+Enter) and Save (Ctrl+S), which act on the text as typed.
  element.addEventListener('keydown', (event) => {
    const mod = event.ctrlKey || event.metaKey;
    if (!(mod && (event.key === 'Enter' || event.key.toLowerCase() === 's'))) event.stopPropagation();
  });
  layer?.append(element);
  return element;
}

/** After each canvas draw: place every text area drawn in this frame, hide the others. */
export function positionTextAreas(graph: LGraph, canvas: LGraphCanvas): void {
  const { scale, offset } = canvas.ds;
  for (const [key, area] of areas) {
    const { element, node } = area;
    if (node.graph !== graph || !node.widgets?.includes(area.widget as unknown as IWidget)) {
      element.remove();
      areas.delete(key);
      continue;
    }
    // The widget's value changed from elsewhere (undo, a loaded workflow): show it, unless the user is typing.
    const text = String(area.widget.value ?? '');
    if (element.value !== text && document.activeElement !== element) element.value = text;
    const visible = area.frame === frame && !node.flags.collapsed && scale >= MIN_SCALE;
    element.style.display = visible ? 'block' : 'none';
    if (!visible) continue;
    element.style.left = `${(node.pos[0]! + 10 + offset[0]!) * scale}px`;
    element.style.top = `${(node.pos[1]! + area.y + offset[1]!) * scale}px`;
    element.style.width = `${area.width - 20}px`;
    element.style.height = `${HEIGHT}px`;
    element.style.transform = `scale(${scale})`;
  }
  frame++;
}

/** The text areas' elements, for tests and the benchmark. */
export function textAreaCount(): number {
  return areas.size;
}
