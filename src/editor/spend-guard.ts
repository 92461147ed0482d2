import type { EstimateResponse } from './estimate.js';

/**
 * Asking before a run that spends more than the user's threshold (issue 10, point 9): a workflow someone sent
 * can hold thirty paid jobs. The threshold is a toolbar setting kept in this browser (localStorage), in USD:
 * empty never asks, 0 always asks. The default, $1.00, lets one ordinary clip run without a question
 * (a 10 s Runway clip is $0.40–$0.50 at list prices) and asks for anything bigger, such as a batch of clips.
 * On Run the estimate is asked for afresh (the toolbar badge may be half a second old); every string reaches
 * the dialog as text.
 */

const STORAGE_KEY = 'reelgraph.confirmAboveUsd';
export const DEFAULT_CONFIRM_ABOVE_USD = '1.00';

/** The stored setting as typed ('' = never ask); the default when none was stored. */
export function storedThreshold(): string {
  return localStorage.getItem(STORAGE_KEY) ?? DEFAULT_CONFIRM_ABOVE_USD;
}

/** The threshold in USD, or undefined for "never ask"; an unreadable value asks always (the safe side). */
export function parseThreshold(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const usd = Number(text);
  return Number.isFinite(usd) && usd >= 0 ? usd : 0;
}

/** What the dialog says, or undefined when Run may go ahead without asking. */
export interface SpendQuestion {
  title: string;
  lines: string[];
}

type EstimateAnswer = { kind: 'estimate'; estimate: EstimateResponse } | { kind: 'not-runnable' } | { kind: 'unknown'; reason: string };

/** Whether to ask, and what to say, for this estimate and threshold. */
export function spendQuestion(answer: EstimateAnswer, thresholdUsd: number | undefined): SpendQuestion | undefined {
  if (thresholdUsd === undefined) return undefined;
  // The server refuses an invalid graph before any create, with the same validation: its errors are the answer.
  if (answer.kind === 'not-runnable') return undefined;
  const limit = `Your limit for running without asking is ${usd(thresholdUsd)}.`;
  if (answer.kind === 'unknown') {
    return { title: 'The cost of this run is unknown', lines: [`The cost could not be estimated: ${answer.reason}.`, limit, 'Run it anyway?'] };
  }
  const { estimate } = answer;
  const unpriced = estimate.jobs.filter((job) => job.usd === undefined).length;
  if (unpriced === 0 && estimate.totalUsd <= thresholdUsd && thresholdUsd > 0) return undefined;
  const jobs = estimate.jobs.length;
  const lines = [
    `Estimated total: ${usd(estimate.totalUsd)} for ${jobs} paid ${jobs === 1 ? 'job' : 'jobs'}.`,
    ...estimate.totals.map((total) => `${total.provider}: ${total.jobs} ${total.jobs === 1 ? 'job' : 'jobs'}, ${usd(total.usd)}${total.credits === undefined ? '' : ` (${total.credits} credits)`}${total.assumed ? ', assumed price' : ''}`),
    ...(unpriced > 0 ? [`${unpriced} ${unpriced === 1 ? 'job has' : 'jobs have'} no known price: the total may be higher.`] : []),
    limit,
  ];
  return { title: 'This run costs money', lines };
}

function usd(value: number): string {
  return value > 0 && value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** The estimate for exactly the prompt about to be queued. */
export async function estimateFor(prompt: unknown): Promise<EstimateAnswer> {
  try {
    const response = await fetch('/api/reelgraph/estimate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt }) });
    const body = (await response.json().catch(() => undefined)) as (EstimateResponse & { runnable?: boolean }) | undefined;
    if (response.status === 400 || (response.ok && body?.runnable === false)) return { kind: 'not-runnable' };
    if (!response.ok || !body || !Array.isArray(body.jobs) || !Array.isArray(body.totals) || typeof body.totalUsd !== 'number') {
      return { kind: 'unknown', reason: `the server answered ${response.status}` };
    }
    return { kind: 'estimate', estimate: body };
  } catch (error) {
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Wires the toolbar setting to localStorage. */
export function setupThresholdInput(input: HTMLInputElement): void {
  input.value = storedThreshold();
  input.addEventListener('change', () => {
    const text = input.value.trim();
    localStorage.setItem(STORAGE_KEY, text === '' ? '' : String(parseThreshold(text)));
  });
}

/** Shows the question in the page's dialog; resolves true only when the user chose to run. */
export function askToSpend(dialog: HTMLDialogElement, question: SpendQuestion): Promise<boolean> {
  dialog.querySelector('h2')!.textContent = question.title;
  const body = dialog.querySelector('.spend-lines')!;
  body.replaceChildren(
    ...question.lines.map((line) => {
      const item = document.createElement('p');
      item.textContent = line;
      return item;
    }),
  );
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'run'), { once: true }));
}

/** The whole check: true when Run may queue `prompt`. */
export async function maySpend(prompt: unknown, thresholdText: string, dialog: HTMLDialogElement): Promise<boolean> {
  const threshold = parseThreshold(thresholdText);
  if (threshold === undefined) return true;
  const question = spendQuestion(await estimateFor(prompt), threshold);
  return question === undefined || askToSpend(dialog, question);
}
