import type { FileChooser, Page } from 'playwright-core';

/**
 * Driving the litegraph editor like a user: double-click search to add nodes, real mouse
 * drags between sockets, clicks on widgets. Positions come from the page's own graph,
 * converted to screen pixels.
 */

interface Point {
  x: number;
  y: number;
}

interface PageNode {
  id: number;
  pos: [number, number];
  size: [number, number];
  mode: number;
  widgets: { name: string; value: unknown; y?: number; last_y?: number }[];
  getOutputPos(slot: number): [number, number];
  getInputPos(slot: number): [number, number];
}

/** What the editor exposes on window for tests and the benchmark (types only; evaluated in the page). */
export interface EditorWindow {
  reelgraph: {
    graph: { nodes: PageNode[]; links: Map<number, unknown>; getNodeById(id: number): PageNode | null };
    canvas: { canvas: HTMLCanvasElement; ds: { offset: [number, number]; scale: number } };
    runStates: Map<string, { state: string; errors?: string[] }>;
  };
}

type Where = { kind: 'output' | 'input'; slot: number } | { kind: 'widget'; name: string } | { kind: 'title' };

/** Screen position of a node's slot, widget or title. */
/** Resolves once the canvas view (offset, scale) is the same over two frames: a graph just opened is still being fitted. */
export async function waitForSteadyView(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      new Promise<boolean>((resolve) => {
        const { ds } = (window as unknown as EditorWindow).reelgraph.canvas;
        const before = `${ds.offset[0]},${ds.offset[1]},${ds.scale}`;
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(before === `${ds.offset[0]},${ds.offset[1]},${ds.scale}`)));
      }),
  );
}

export async function pointOf(page: Page, nodeId: number, where: Where): Promise<Point> {
  await waitForSteadyView(page);
  return page.evaluate(
    ({ nodeId, where }) => {
      const { graph, canvas } = (window as unknown as EditorWindow).reelgraph;
      const node = graph.getNodeById(nodeId);
      if (!node) throw new Error(`no node ${nodeId}`);
      let point: [number, number];
      if (where.kind === 'widget') {
        const name = where.name;
        const widget = node.widgets.find((w) => w.name === name);
        if (!widget) throw new Error(`no widget ${name}`);
        point = [node.pos[0] + node.size[0] / 2, node.pos[1] + (widget.y ?? widget.last_y ?? 0) + 10];
      } else if (where.kind === 'title') point = [node.pos[0] + 60, node.pos[1] - 15];
      else point = where.kind === 'output' ? node.getOutputPos(where.slot) : node.getInputPos(where.slot);
      const rect = canvas.canvas.getBoundingClientRect();
      const { offset, scale } = canvas.ds;
      return { x: rect.left + (point[0] + offset[0]) * scale, y: rect.top + (point[1] + offset[1]) * scale };
    },
    { nodeId, where },
  );
}

/** Double-clicks empty canvas, types the node type into litegraph's search box and picks it. */
export async function addNodeBySearch(page: Page, type: string, at: Point): Promise<number> {
  const before = await nodeIds(page);
  await page.mouse.dblclick(at.x, at.y);
  const input = page.locator('.litesearchbox input').first();
  await input.waitFor({ state: 'visible' });
  await input.pressSequentially(type, { delay: 10 });
  await page.locator('.litesearchbox .lite-search-item').first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.waitForFunction((count) => (window as unknown as EditorWindow).reelgraph.graph.nodes.length > count, before.length);
  const after = await nodeIds(page);
  const added = after.find((id) => !before.includes(id));
  if (added === undefined) throw new Error(`adding ${type} created no node`);
  return added;
}

export function nodeIds(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.nodes.map((n) => n.id));
}

/** A real press-move-release from an output socket to an input socket. */
export async function dragLink(page: Page, from: number, fromSlot: number, to: number, toSlot: number): Promise<void> {
  const start = await pointOf(page, from, { kind: 'output', slot: fromSlot });
  const end = await pointOf(page, to, { kind: 'input', slot: toSlot });
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2 + 20, { steps: 8 });
  await page.mouse.move(end.x, end.y, { steps: 8 });
  await page.mouse.up();
}

export function linkCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as EditorWindow).reelgraph.graph.links.size);
}

/** Clicks a number or text widget and types a new value: into the node's text area, or litegraph's prompt dialog. */
export async function typeIntoWidget(page: Page, nodeId: number, name: string, value: string): Promise<void> {
  const point = await pointOf(page, nodeId, { kind: 'widget', name });
  await page.mouse.click(point.x, point.y);
  if (await page.evaluate(() => document.activeElement?.classList.contains('node-textarea'))) {
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(value);
    return;
  }
  const input = page.locator('.graphdialog .value').last();
  await input.waitFor({ state: 'visible' });
  await input.fill(value);
  // A multiline prompt takes Enter as a newline; its OK button submits.
  if (await input.evaluate((element) => element.tagName === 'TEXTAREA')) await page.locator('.graphdialog button').last().click();
  else await input.press('Enter');
}

export function widgetValue(page: Page, nodeId: number, name: string): Promise<unknown> {
  return page.evaluate(
    ({ nodeId, name }) => (window as unknown as EditorWindow).reelgraph.graph.getNodeById(nodeId)!.widgets.find((w) => w.name === name)?.value,
    { nodeId, name },
  );
}

export function nodeState(page: Page, nodeId: number): Promise<{ state: string; errors?: string[] } | undefined> {
  return page.evaluate((id) => (window as unknown as EditorWindow).reelgraph.runStates.get(String(id)), nodeId);
}

/** Clicks a combo widget and picks an entry from litegraph's context menu. */
export async function chooseInCombo(page: Page, nodeId: number, name: string, value: string): Promise<void> {
  const point = await pointOf(page, nodeId, { kind: 'widget', name });
  await page.mouse.click(point.x, point.y);
  await page.locator('.litecontextmenu .litemenu-entry', { hasText: new RegExp(`^${value}$`) }).first().click();
}

/**
 * Clicks a button widget that opens the file chooser. Retried because a menu left open by
 * an earlier gesture swallows the first click (litegraph closes menus on pointerdown).
 */
export async function openFileChooser(page: Page, nodeId: number, widget: string): Promise<FileChooser> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.keyboard.press('Escape');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    const point = await pointOf(page, nodeId, { kind: 'widget', name: widget });
    const chooser = page.waitForEvent('filechooser', { timeout: 3000 }).catch(() => undefined);
    await page.mouse.click(point.x, point.y);
    const opened = await chooser;
    if (opened) return opened;
  }
  throw new Error(`the ${widget} button of node ${nodeId} opened no file chooser`);
}

/** The id of the first node of this type. */
export function idOf(page: Page, type: string): Promise<number> {
  return page.evaluate((type) => (window as unknown as EditorWindow).reelgraph.graph.nodes.find((node) => (node as unknown as { type: string }).type === type)!.id, type);
}

/** A preview <video> that has decoded frames and whose clock moves. */
export async function waitForPlayingVideo(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(() => {
    const video = document.querySelector<HTMLVideoElement>('video.node-preview');
    return video !== null && video.readyState >= 2 && !video.paused && video.currentTime > 0;
  }, undefined, { timeout });
}
