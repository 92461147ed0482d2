import { viewUrl } from './api.js';
import { videoFileOf } from './previews.js';

/**
 * The queue and history panel, like ComfyUI's: prompts waiting, running and finished, each
 * with its state, duration, estimated cost and videos (playable in place). A waiting prompt can
 * be cancelled, a running one stopped, a finished one's workflow opened again, and the history
 * cleared. It reads the server's /queue and /history (which the server keeps on disk), so it
 * shows the same after a reload or a server restart. Text from the server goes in as text only.
 */

type Tuple = [number, string, Record<string, unknown>, Record<string, unknown>, string[]];

interface HistoryEntry {
  prompt: Tuple;
  outputs: Record<string, Record<string, unknown>>;
  status: { status_str: string; completed: boolean; messages: [string, { timestamp?: number; exception_message?: string }][] };
}

export interface QueuePanel {
  refresh(): void;
}

export interface PanelActions {
  /** Opens a workflow from a past run (asks first if the graph has unsaved work). */
  open(workflow: unknown, name: string): void;
  setStatus(text: string, tone?: 'ok' | 'busy' | 'error'): void;
}

const MAX_SHOWN = 50;

async function post(path: string, body: unknown): Promise<void> {
  await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

export function createQueuePanel(panel: HTMLElement, toggle: HTMLButtonElement, actions: PanelActions): QueuePanel {
  const list = panel.querySelector<HTMLElement>('.queue-list')!;
  let pending: Promise<void> | undefined;
  let again = false;
  const render = async (): Promise<void> => {
    const [queue, history] = await Promise.all([
      fetch('/api/queue').then((r) => r.json() as Promise<{ queue_running: Tuple[]; queue_pending: Tuple[] }>),
      fetch(`/api/history?max_items=${MAX_SHOWN}`).then((r) => r.json() as Promise<Record<string, HistoryEntry>>),
    ]);
    const items: HTMLElement[] = [];
    for (const tuple of queue.queue_running) items.push(item(tuple, 'running', undefined, actions));
    for (const tuple of queue.queue_pending) items.push(item(tuple, 'pending', undefined, actions));
    for (const [, entry] of Object.entries(history).reverse()) items.push(item(entry.prompt, stateOf(entry), entry, actions));
    if (items.length === 0) items.push(Object.assign(document.createElement('p'), { className: 'queue-empty', textContent: 'Nothing queued or run yet.' }));
    list.replaceChildren(...items);
  };
  const refresh = (): void => {
    if (panel.hidden) return;
    // One render at a time; events during one ask for one more.
    if (pending) {
      again = true;
      return;
    }
    pending = render()
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  toggle.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute('aria-expanded', String(!panel.hidden));
    refresh();
  });
  panel.querySelector('.queue-close')!.addEventListener('click', () => {
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  });
  panel.querySelector('.queue-clear')!.addEventListener('click', async () => {
    if (!window.confirm('Clear the history? The videos stay in the output folder.')) return;
    await post('/api/history', { clear: true });
    refresh();
  });
  return { refresh };
}

function stateOf(entry: HistoryEntry): string {
  if (entry.status.status_str === 'success') return 'done';
  return entry.status.messages.some(([type]) => type === 'execution_interrupted') ? 'stopped' : 'failed';
}

function item(tuple: Tuple, state: string, entry: HistoryEntry | undefined, actions: PanelActions): HTMLElement {
  const [number, promptId, , extra] = tuple;
  const element = document.createElement('article');
  element.className = 'queue-item';
  element.dataset.state = state;
  element.dataset.promptId = promptId;
  const head = document.createElement('div');
  head.className = 'queue-head';
  const badge = Object.assign(document.createElement('span'), { className: 'queue-state', textContent: state });
  const facts = [`#${number}`];
  const seconds = entry ? durationOf(entry) : undefined;
  if (seconds !== undefined) facts.push(`${seconds.toFixed(1)} s`);
  const estimate = (extra.reelgraph as { estimate?: string } | undefined)?.estimate;
  if (estimate) facts.push(estimate);
  head.append(badge, Object.assign(document.createElement('span'), { className: 'queue-facts', textContent: facts.join(' · ') }));
  element.append(head);
  const error = entry?.status.messages.find(([type]) => type === 'execution_error')?.[1].exception_message;
  if (error) element.append(Object.assign(document.createElement('p'), { className: 'queue-error', textContent: error }));
  for (const output of Object.values(entry?.outputs ?? {})) {
    const file = videoFileOf(output);
    if (!file) continue;
    const video = Object.assign(document.createElement('video'), { controls: true, muted: true, loop: true, preload: 'metadata', src: viewUrl(file) });
    video.className = 'queue-video';
    video.setAttribute('aria-label', `Video of run #${number}: ${file.filename}`);
    element.append(video);
  }
  const buttons = document.createElement('div');
  buttons.className = 'queue-buttons';
  if (state === 'pending') buttons.append(button('Cancel', `Remove run #${number} from the queue`, () => post('/api/queue', { delete: [promptId] })));
  if (state === 'running') buttons.append(button('Stop', `Stop run #${number}`, () => post('/api/interrupt', { prompt_id: promptId })));
  const workflow = (extra.extra_pnginfo as { workflow?: unknown } | undefined)?.workflow;
  if (workflow) buttons.append(button('Open workflow', `Open the workflow of run #${number}`, () => actions.open(workflow, `run #${number}`)));
  element.append(buttons);
  return element;
}

function button(text: string, label: string, onClick: () => unknown): HTMLButtonElement {
  const element = Object.assign(document.createElement('button'), { type: 'button', textContent: text, title: label });
  element.setAttribute('aria-label', label);
  element.addEventListener('click', () => void onClick());
  return element;
}

/** From execution_start to the last terminal message, in seconds. */
function durationOf(entry: HistoryEntry): number | undefined {
  const at = (type: string): number | undefined => entry.status.messages.find(([name]) => name === type)?.[1].timestamp;
  const start = at('execution_start');
  const end = at('execution_success') ?? at('execution_error') ?? at('execution_interrupted');
  return start !== undefined && end !== undefined ? (end - start) / 1000 : undefined;
}
