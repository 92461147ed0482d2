import type { LGraph, LGraphCanvas } from '@comfyorg/litegraph';
import { formatUsd, type ExistingJob } from './estimate.js';

/**
 * A job whose create got no clear answer (a 500, a cut connection): the provider may have made it and billed it, so
 * Run refuses to submit it again. Under its node the editor says so in one sentence, tells the user what to look
 * for at the provider, and offers "Submit again (may pay twice)", which asks first. All text is set as text.
 */

export interface UnknownJobActions {
  /** The provider's display name ("Runway API"). */
  providerName(id: string): string;
  /** The user confirmed: record the decision and queue the run again. */
  submitAgain(job: ExistingJob): Promise<void>;
}

const boxes = new Map<string, HTMLElement>();

/** Shows a box under each node with an unknown-outcome job, and removes the boxes of jobs no longer unknown. */
export function showUnknownJobs(layer: HTMLElement, jobs: ExistingJob[], actions: UnknownJobActions): void {
  for (const [id, box] of boxes) {
    if (jobs.some((job) => job.nodeId === id && job.jobKey === box.dataset.jobKey)) continue;
    box.remove();
    boxes.delete(id);
  }
  for (const job of jobs) {
    if (boxes.has(job.nodeId)) continue;
    const box = renderBox(job, actions);
    layer.append(box);
    boxes.set(job.nodeId, box);
  }
}

/** Whether a node shows the box (its sentence replaces the error drawn on the canvas). */
export function hasUnknownJob(nodeId: string): boolean {
  return boxes.has(nodeId);
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function renderBox(job: ExistingJob, actions: UnknownJobActions): HTMLElement {
  const box = element('div', undefined, 'unknown-job');
  box.dataset.nodeId = job.nodeId;
  if (job.jobKey) box.dataset.jobKey = job.jobKey;
  box.setAttribute('role', 'alert');
  const provider = actions.providerName(job.provider);
  box.append(element('p', `${provider} may already have this job: its create got no clear answer, so Run will not submit it again until you decide.`, 'unknown-sentence'));
  const check = element('details', undefined, 'unknown-check');
  check.open = true;
  check.append(element('summary', 'Check the provider'), element('p', guidance(job, provider)));
  const button = element('button', 'Submit again (may pay twice)', 'unknown-submit');
  button.type = 'button';
  button.addEventListener('click', () => void confirmSubmit(job, provider, actions, button));
  box.append(check, button);
  return box;
}

function guidance(job: ExistingJob, provider: string): string {
  const when = job.since === undefined ? 'when you last ran this node' : `around ${new Date(job.since).toLocaleString()} (${new Date(job.since).toISOString()})`;
  return (
    `Sign in to your ${provider} account and look in its task or usage list for a ${job.model} ${job.duration} s image-to-video task created ${when}. ` +
    'If it is there, it is being paid for: wait for it and download it there. If there is none, submitting again is safe.'
  );
}

/** Asks first; only a confirmation calls the server and runs again. */
async function confirmSubmit(job: ExistingJob, provider: string, actions: UnknownJobActions, button: HTMLButtonElement): Promise<void> {
  const dialog = element('dialog', undefined, 'unknown-confirm');
  dialog.setAttribute('aria-labelledby', 'unknown-confirm-title');
  const title = element('h2', 'Submit this job again?');
  title.id = 'unknown-confirm-title';
  const price = job.usd === undefined ? 'an unknown price' : `an estimated ${formatUsd(job.usd)}`;
  const form = element('form');
  form.method = 'dialog';
  const cancel = element('button', 'Cancel');
  cancel.value = 'cancel';
  const confirm = element('button', `Submit again, paying ${job.usd === undefined ? 'again' : formatUsd(job.usd)}`, 'primary');
  confirm.value = 'confirm';
  form.append(cancel, confirm);
  dialog.append(
    title,
    element('p', `This may pay twice: if ${provider} did make the first job, you are billed for both. A new ${job.model} ${job.duration} s job costs ${price}.`),
    form,
  );
  document.body.append(dialog);
  const answer = await new Promise<string>((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
    cancel.focus();
  });
  dialog.remove();
  if (answer !== 'confirm') return;
  button.disabled = true;
  try {
    await actions.submitAgain(job);
  } finally {
    button.disabled = false;
  }
}

/** Called after every canvas draw: keeps each box under its node, or hides it with a collapsed or removed node. */
export function positionUnknownJobs(graph: LGraph, canvas: LGraphCanvas): void {
  const { scale, offset } = canvas.ds;
  for (const [id, box] of boxes) {
    const node = graph.getNodeById(Number(id)) ?? graph.getNodeById(id);
    box.style.display = node && !node.flags.collapsed ? 'block' : 'none';
    if (!node) continue;
    box.style.left = `${(node.pos[0]! + offset[0]!) * scale}px`;
    box.style.top = `${(node.pos[1]! + (node.size[1] ?? 0) + 10 + offset[1]!) * scale}px`;
  }
}
