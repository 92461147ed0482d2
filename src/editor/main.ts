import '@comfyorg/litegraph/style.css';
import './style.css';
import { LGraph, LGraphCanvas, LiteGraph, type LGraphNode } from '@comfyorg/litegraph';
import { DEFAULT_WORKFLOW, fetchCatalog, fetchExample, fetchExamples, fetchInputImages, fetchMode, fetchObjectInfo, interrupt, queuePrompt, submitAgain, uploadImage } from './api.js';
import { clearPreviews, positionPreviews } from './previews.js';
import { registerNodeTypes } from './register-nodes.js';
import { registerNoteTypes } from './note-node.js';
import { createEstimator, type EstimateView, type Estimator, type ExistingJob } from './estimate.js';
import { importProvider, prepareForEditor } from './import.js';
import { handleMessage, showValidationErrors, type RunView } from './run-events.js';
import { runStates } from './run-state.js';
import { connectEvents, type ServerMessage } from './socket.js';
import { positionTextAreas, setTextAreaLayer } from './text-areas.js';
import { applyControlValues, estimatedPrompt, graphToApiPrompt, queuedPrompt } from './to-api.js';
import { addDefinitions, hasSubgraphInstances } from './subgraph-nodes.js';
import { createUndoHistory } from './undo.js';
import { trimMenus } from './menus.js';
import { makeLitegraphSafe } from './safe-litegraph.js';
import { forgetThumbnail, isImageFile, setImageChoices } from './images.js';
import { createQueuePanel } from './queue-panel.js';
import { maySpend, setupThresholdInput } from './spend-guard.js';
import { setupLinkSearch } from './link-search.js';
import { MODES, toggleMode } from './modes.js';
import { positionUnknownJobs, showUnknownJobs } from './unknown-job.js';
import { autosave, downloadJson, loadWorkflowData, readWorkflowFile, restoreAutosave } from './workflow-io.js';

/** The editor page: a litegraph canvas, a toolbar, and the server's event stream. */

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/**
 * Workflows from ComfyUI are laid out wherever their author worked (often thousands of units from
 * the origin): after opening one, fit the view to its nodes, zooming out but never in past 100%.
 */
function showWholeGraph(canvas: LGraphCanvas, graph: LGraph): void {
  if (graph.nodes.length === 0) return;
  const margin = 40;
  const xs = graph.nodes.flatMap((node) => [node.pos[0], node.pos[0] + node.size[0]]);
  const ys = graph.nodes.flatMap((node) => [node.pos[1] - LiteGraph.NODE_TITLE_HEIGHT, node.pos[1] + node.size[1]]);
  const [left, top] = [Math.min(...xs) - margin, Math.min(...ys) - margin];
  const [width, height] = [Math.max(...xs) - left + margin, Math.max(...ys) - top + margin];
  const { clientWidth: viewWidth, clientHeight: viewHeight } = canvas.canvas;
  const scale = Math.min(1, viewWidth / width, viewHeight / height);
  // litegraph draws a point at (pos + offset) * scale: centre the bounds in the view.
  canvas.ds.scale = scale;
  canvas.ds.offset[0] = viewWidth / scale / 2 - (left + width / 2);
  canvas.ds.offset[1] = viewHeight / scale / 2 - (top + height / 2);
  canvas.setDirty(true, true);
}

async function main(): Promise<void> {
  const [info, catalog, mode, images] = await Promise.all([fetchObjectInfo(), fetchCatalog(), fetchMode(), fetchInputImages()]);
  setImageChoices(images);
  $('emulator').hidden = !mode.emulator;
  // Nodes report changes before the graph exists; the estimator is attached right after.
  let graphChanged = (): void => undefined;
  registerNodeTypes(info, catalog, { pickImage: (node) => pickImage(node, (target, file) => useImage(target, file)), changed: () => graphChanged() });
  registerNoteTypes();
  // Strings from shared workflows reach litegraph's menus and panels: as text, never HTML.
  makeLitegraphSafe();
  LiteGraph.release_link_on_empty_shows_menu = true;
  const graph = new LGraph();
  // Subgraph definitions are kept as loaded (subgraph-nodes.ts) and written back on every save.
  graph.onSerialize = (data) => addDefinitions(graph, data as { nodes?: unknown; definitions?: unknown });
  // Set once the page can act: the plan names jobs whose outcome is unknown, and their nodes offer the decision.
  let planShown = (_unknown: ExistingJob[]): void => undefined;
  const estimator = watchEstimate(graph, (unknown) => planShown(unknown));
  graphChanged = () => estimator.changed();
  graph.onNodeAdded = graphChanged;
  graph.onNodeRemoved = graphChanged;
  const canvasElement = $<HTMLCanvasElement>('graph-canvas');
  const canvas = new LGraphCanvas(canvasElement, graph);
  canvas.background_image = '';
  canvas.clear_background_color = '#1b1c1f';
  canvas.show_info = false;
  // litegraph outlines the graph's origin area; a stray rectangle on an endless canvas.
  canvas.render_canvas_border = false;
  setTextAreaLayer($('overlay'));
  trimMenus(canvas, () => graphChanged());
  setupLinkSearch(canvas);
  const errorDetails = $<HTMLDetailsElement>('error-details');
  const showDetails = (details: string): void => {
    errorDetails.querySelector('pre')!.textContent = details;
    errorDetails.open = false;
    errorDetails.hidden = false;
  };
  const view: RunView = { graph, canvas, overlay: $('overlay'), setStatus, showDetails, setQueue: (n) => ($('queue').textContent = `Queue ${n}`) };
  const previousDraw = canvas.onDrawForeground;
  canvas.onDrawForeground = (ctx, visible) => {
    previousDraw?.call(canvas, ctx, visible);
    positionPreviews(graph, canvas);
    positionTextAreas(graph, canvas);
    positionUnknownJobs(graph, canvas);
  };
  const resize = (): void => canvas.resize(canvasElement.parentElement!.clientWidth, canvasElement.parentElement!.clientHeight);
  window.addEventListener('resize', resize);
  resize();
  const restored = restoreAutosave(graph);
  if (restored) setStatus('Restored the last session');
  else setStatus('Ready');
  const undo = createUndoHistory(() => graph.serialize(), (data) => {
    loadWorkflowData(graph, data);
    estimator.changed();
  }, !restored);
  graphChanged = () => {
    estimator.changed();
    undo.changed();
  };
  graph.onNodeAdded = graphChanged;
  graph.onNodeRemoved = graphChanged;
  // Moves, links, pastes and deletions end with a pointer or key release.
  canvasElement.addEventListener('pointerup', () => undo.changed());
  window.addEventListener('keyup', () => undo.changed());
  /** Before replacing the graph: true when there is nothing unsaved, or the user agrees to drop it. */
  const mayReplace = (action: string): boolean =>
    graph.nodes.length === 0 || !undo.unsaved() || window.confirm(`${action} replaces the graph, which has unsaved changes. Continue? (Ctrl+Z brings it back.)`);
  graph.start();
  setInterval(() => autosave(graph), 1000);
  window.addEventListener('beforeunload', () => autosave(graph));

  const clientId = sessionStorage.getItem('reelgraph.clientId') ?? crypto.randomUUID().replaceAll('-', '');
  sessionStorage.setItem('reelgraph.clientId', clientId);
  const panel = createQueuePanel($('queue-panel'), $<HTMLButtonElement>('queue'), { open: (workflow, name) => void load(workflow, name), setStatus });
  const onMessage = (message: ServerMessage): void => {
    handleMessage(view, message);
    if (message.type === 'status' || message.type.startsWith('execution_')) panel.refresh();
    // A finished, failed or stopped run changes the cache and the job journal, so the same graph
    // may now cost something else: ask for the plan again (the badge changes only if it did).
    if (['execution_success', 'execution_error', 'execution_interrupted'].includes(message.type)) estimator.invalidate();
  };
  connectEvents(clientId, onMessage, (connected) => {
    $('connection').classList.toggle('online', connected);
    $('connection').setAttribute('aria-label', connected ? 'Event stream connected' : 'Event stream disconnected');
  });
  const help = $<HTMLDialogElement>('help');
  $('help-button').addEventListener('click', () => help.showModal());

  /** Uploads an image (checked as an image by the server) and puts it in LoadImage; a refusal is shown on the node. */
  const useImage = async (node: LGraphNode, file: File): Promise<void> => {
    try {
      const name = await uploadImage(file);
      forgetThumbnail(name);
      setImageChoices(await fetchInputImages());
      const widget = node.widgets?.find((w) => w.name === 'image');
      if (widget) widget.value = name;
      runStates.delete(String(node.id));
      setStatus(`Using ${name} in ${node.title}`, 'ok');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      runStates.set(String(node.id), { state: 'error', errors: [message] });
      setStatus(message, 'error');
    }
    graphChanged();
    canvas.setDirty(true, true);
  };
  /** An image dropped on the canvas: into the LoadImage under it, the only LoadImage, or a new one there. */
  const dropImage = async (file: File, event: DragEvent): Promise<void> => {
    const [x, y] = canvas.convertEventToCanvasOffset(event as unknown as MouseEvent);
    const under = graph.getNodeOnPos(x!, y!);
    const loaders = graph.nodes.filter((node) => node.type === 'LoadImage');
    let node = under?.type === 'LoadImage' ? under : loaders.length === 1 ? loaders[0] : undefined;
    if (!node) {
      node = LiteGraph.createNode('LoadImage') ?? undefined;
      if (!node) return;
      node.pos = [x!, y!];
      graph.add(node);
    }
    await useImage(node, file);
  };
  const load = async (data: unknown, name: string): Promise<void> => {
    if (!mayReplace(`Opening ${name}`)) return;
    try {
      const prepared = await prepareForEditor(data, name, importProvider(location.search));
      clearPreviews();
      runStates.clear();
      loadWorkflowData(graph, prepared.data);
      showWholeGraph(canvas, graph);
      autosave(graph);
      graphChanged();
      undo.markSaved();
      setStatus(prepared.status, prepared.tone);
    } catch (error) {
      setStatus(error instanceof Error ? error.message : String(error), 'error');
    }
  };
  const spendDialog = $<HTMLDialogElement>('spend-dialog');
  const run = async (): Promise<void> => {
    if (spendDialog.open) return;
    const prompt = queuedPrompt(graph);
    const workflow = graph.serialize();
    // Said at once: the cost check below asks the server first, and a click must show it was heard.
    setStatus('Checking the cost…', 'busy');
    // Above the user's threshold (or with no estimate) the run waits for a yes; No queues nothing.
    if (!(await maySpend(prompt, $<HTMLInputElement>('confirm-above').value, spendDialog))) return setStatus('Not run: cancelled before spending anything');
    runStates.clear();
    $('error-details').hidden = true;
    // Said before the request: a cached run can finish before its answer arrives.
    setStatus('Queued', 'busy');
    const badge = $('estimate');
    const response = await queuePrompt(prompt, workflow, clientId, badge.hidden ? undefined : (badge.textContent ?? undefined));
    if (!response.ok) return showValidationErrors(view, response);
    view.promptId = response.promptId;
    applyControlValues(graph);
    graphChanged();
  };
  planShown = (unknown) => {
    showUnknownJobs($('overlay'), unknown, {
      providerName: (id) => catalog[id]?.displayName ?? id,
      submitAgain: async (job) => {
        try {
          await submitAgain(queuedPrompt(graph), job.nodeId, job.jobKey);
        } catch (error) {
          return setStatus(`Not submitted: ${error instanceof Error ? error.message : String(error)}`, 'error');
        }
        estimator.invalidate();
        await run();
      },
    });
    canvas.setDirty(true, false);
  };
  const save = (): void => {
    downloadJson('workflow.json', graph.serialize());
    undo.markSaved();
  };
  const exportApi = (): void => {
    // The API format has no subgraphs; their flattening lives on the server side only (src/comfy/subgraphs.ts).
    if (hasSubgraphInstances(graph)) return setStatus('Export (API) of a workflow with subgraphs: Save it, then run `reelgraph convert --to api` on the file', 'error');
    downloadJson('workflow_api.json', graphToApiPrompt(graph));
  };

  setupThresholdInput($<HTMLInputElement>('confirm-above'));
  $('run').addEventListener('click', () => void run());
  $('stop').addEventListener('click', () => void interrupt());
  $('save').addEventListener('click', save);
  $('export').addEventListener('click', exportApi);
  $('open').addEventListener('click', () => $('open-file').click());
  $<HTMLInputElement>('open-file').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    (event.target as HTMLInputElement).value = '';
    if (file) await openFile(file, load);
  });
  $('clear').addEventListener('click', () => {
    if (!mayReplace('Clear')) return;
    graph.clear();
    clearPreviews();
    runStates.clear();
    autosave(graph);
    graphChanged();
    undo.checkpoint();
  });
  setupExamples(load);
  if (!restored) {
    // A fresh editor opens a workflow that runs as is, as ComfyUI opens its default graph.
    await load(await fetchExample(DEFAULT_WORKFLOW), DEFAULT_WORKFLOW).catch(() => undefined);
    setStatus('Ready');
  }
  setupDrop(load, (file, event) => void dropImage(file, event));
  const modeChanged = (): void => {
    graphChanged();
    undo.checkpoint();
  };
  window.addEventListener('keydown', (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    // Text fields keep their own undo and keys.
    if (isTextField(event.target) && !(mod && key === 'enter')) return;
    if (event.key === '?' && !mod) {
      if (!help.open) help.showModal();
    } else if (mod && key === 'z' && !event.shiftKey) undo.undo();
    else if (mod && (key === 'y' || (key === 'z' && event.shiftKey))) undo.redo();
    // A shortcut is a whole step: checkpoint at once, so two quick toggles are two undo steps, not one that cancels out.
    else if (mod && key === 'b' && toggleMode(canvas, MODES.bypass)) modeChanged();
    else if (mod && key === 'm' && toggleMode(canvas, MODES.never)) modeChanged();
    else if (mod && event.key === 'Enter') void run();
    else if (mod && event.key.toLowerCase() === 's') save();
    else if (mod && event.key.toLowerCase() === 'o') $('open-file').click();
    else return;
    event.preventDefault();
  });
  Object.assign(window, { reelgraph: { graph, canvas, runStates, run, undo, save, exportApi, loadGraphData: (data: unknown) => loadWorkflowData(graph, data), toApi: () => graphToApiPrompt(graph) } });
  document.body.dataset.ready = 'true';
}

/** The estimate badge and the Run button's tooltip follow every change to the graph. */
function watchEstimate(graph: LGraph, planShown: (unknown: ExistingJob[]) => void): Estimator {
  const run = $('run');
  const runTitle = run.title;
  const show = (view: EstimateView): void => {
    // An estimate that could not be made says nothing about the jobs: keep what the last plan showed.
    if (view.tone !== 'error') planShown(view.unknown ?? []);
    const badge = $('estimate');
    badge.textContent = view.text;
    badge.title = view.title;
    badge.dataset.tone = view.tone;
    badge.hidden = view.tone === 'idle';
    run.title = view.tone === 'idle' ? runTitle : `${runTitle}\n${view.title}`;
  };
  return createEstimator(() => (graph.nodes.length > 0 ? estimatedPrompt(graph) : undefined), show);
}

type Load = (data: unknown, name: string) => Promise<void>;

function isTextField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function setStatus(text: string, tone: 'ok' | 'busy' | 'error' = 'ok'): void {
  const status = $('status');
  status.textContent = text;
  // A long message (every missing node type) is cut off in the toolbar; the tooltip has it all.
  status.title = text;
  status.dataset.tone = tone;
}

function pickImage(node: LGraphNode, use: (node: LGraphNode, file: File) => Promise<void>): void {
  const input = $<HTMLInputElement>('image-file');
  input.onchange = async () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) await use(node, file);
  };
  input.click();
}

function setupExamples(load: Load): void {
  const select = $<HTMLSelectElement>('examples');
  void fetchExamples().then((names) => {
    for (const name of names) select.append(new Option(name.replace(/\.json$/, ''), name));
    select.hidden = names.length === 0;
  });
  select.addEventListener('change', async () => {
    if (!select.value) return;
    await load(await fetchExample(select.value), select.value);
    select.value = '';
  });
}

function setupDrop(load: Load, dropImage: (file: File, event: DragEvent) => void): void {
  document.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', async (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file && isImageFile(file)) dropImage(file, event);
    else if (file) await openFile(file, load);
  });
}

/** Opens a workflow JSON, or the workflow embedded in an MP4/MOV, saying in the status bar why not. */
async function openFile(file: File, load: Load): Promise<void> {
  try {
    await load(await readWorkflowFile(file), file.name);
  } catch (error) {
    setStatus(error instanceof Error ? error.message : String(error), 'error');
  }
}

main().catch((error: unknown) => setStatus(`Could not start the editor: ${error instanceof Error ? error.message : String(error)}`, 'error'));
