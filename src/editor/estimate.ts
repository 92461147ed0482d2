/**
 * The dry-run estimate shown before Run: what the current graph would cost, from the
 * server's POST /reelgraph/estimate (nothing is queued or submitted). Refreshed 500 ms
 * after the last change, and only when the API prompt actually differs from the last one
 * asked about, so dragging nodes around or loading a big file costs one request.
 */

/** A job the run would not create: re-attached at no cost, or refused until the user decides (outcome unknown). */
export interface ExistingJob {
  nodeId: string;
  provider: string;
  model: string;
  duration: number;
  status: 'reattach' | 'unknown';
  /** What submitting it again would cost. */
  usd?: number;
  jobKey?: string;
  taskId?: string;
  /** When the create with no clear answer was sent (ms since the epoch). */
  since?: number;
}

export interface EstimateResponse {
  jobs: { nodeId: string; provider: string; usd?: number; credits?: number }[];
  /** Jobs that already exist (absent from servers before they were planned). */
  existing?: ExistingJob[];
  totals: { provider: string; jobs: number; usd: number; credits?: number; assumed: boolean }[];
  totalUsd: number;
  /** What must be fixed before a real run, though the plan could be made. */
  warnings?: { message?: string; details?: string }[];
  nodes?: { id: string; type: string; action: string }[];
}

/** What the badge shows: the text, and a longer tooltip. */
export interface EstimateView {
  text: string;
  title: string;
  tone: 'ok' | 'error' | 'idle';
  /** Jobs whose create got no clear answer: the editor offers the user the decision on their node. */
  unknown?: ExistingJob[];
}

const DEBOUNCE_MS = 500;

/**
 * The plan in a few words, as `run --dry-run` prints it: "≈ $0.25 · 25 credits · 1 job" for jobs the run creates (credits
 * only when a provider bills in them), "1 job re-attaches at $0.00" for jobs already at the provider, and
 * "1 job: outcome unknown — will not submit until you decide" for jobs it refuses to create (no price: nothing is paid).
 */
export function formatEstimate(estimate: EstimateResponse): EstimateView {
  const jobs = estimate.jobs.length;
  const existing = estimate.existing ?? [];
  const reattach = existing.filter((job) => job.status === 'reattach');
  const unknown = existing.filter((job) => job.status === 'unknown');
  const credits = estimate.totals.reduce<number | undefined>((sum, total) => (total.credits === undefined ? sum : (sum ?? 0) + total.credits), undefined);
  const parts: string[] = [];
  // A run that only follows or waits for jobs creates nothing: "≈ $0.00 · 0 jobs" would hide what it does.
  if (jobs > 0 || existing.length === 0) {
    parts.push(`≈ ${formatUsd(estimate.totalUsd)}`);
    if (credits !== undefined) parts.push(`${credits} credits`);
    parts.push(`${jobs} ${jobs === 1 ? 'job' : 'jobs'}`);
  }
  if (reattach.length > 0) parts.push(`${countJobs(reattach.length)} ${reattach.length === 1 ? 're-attaches' : 're-attach'} at $0.00`);
  if (unknown.length > 0) parts.push(`${countJobs(unknown.length)}: outcome unknown — will not submit until you decide`);
  const text = parts.join(' · ');
  const perProvider = estimate.totals.map((total) => `${total.provider}: ${total.jobs} new × ≈ ${formatUsd(total.usd)}${total.assumed ? ' (assumed price)' : ''}`);
  const cached = (estimate.nodes ?? []).filter((node) => node.action === 'cached').map((node) => `${node.type} (${node.id})`);
  const notes = [
    ...reattach.map((job) => `Node ${job.nodeId}: the ${job.provider} job${job.taskId ? ` ${job.taskId}` : ''} is still at the provider; Run follows it, creating nothing`),
    ...unknown.map((job) => `Node ${job.nodeId}: an earlier ${job.provider} create got no clear answer; Run will not submit it again until you decide on the node`),
    ...(cached.length ? [`From the cache, not run again: ${cached.join(', ')}`] : []),
    ...(estimate.warnings ?? []).map((warning) => [warning.message, warning.details].filter(Boolean).join(': ')),
  ];
  const title = [`Estimated cost of a run: ${text}`, ...perProvider, ...notes].join('\n');
  return { text, title, tone: 'ok', unknown };
}

function countJobs(count: number): string {
  return `${count} ${count === 1 ? 'job' : 'jobs'}`;
}

export function formatUsd(usd: number): string {
  // Cents for real prices; more digits only when a total is below a cent but not zero.
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** A 400 from the route: the graph is not runnable yet, so there is no price to show. */
export function estimateProblem(body: unknown): EstimateView {
  const error = (body as { error?: { message?: string; details?: string } } | undefined)?.error;
  const nodeErrors = (body as { node_errors?: Record<string, unknown> } | undefined)?.node_errors ?? {};
  const count = Object.keys(nodeErrors).length;
  const reason = count > 0 ? `${count} node(s) need attention` : [error?.message, error?.details].filter(Boolean).join(': ') || 'the graph is not valid yet';
  return { text: '≈ ?', title: `No estimate: ${reason}`, tone: 'error' };
}

export async function fetchEstimate(prompt: unknown, signal: AbortSignal): Promise<EstimateView> {
  const response = await fetch('/api/reelgraph/estimate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt }),
    signal,
  });
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (response.ok) return (body as { runnable?: boolean }).runnable === false ? estimateProblem(body) : formatEstimate(body as EstimateResponse);
  return response.status === 400 ? estimateProblem(body) : { text: '≈ ?', title: `No estimate: the server answered ${response.status}`, tone: 'error' };
}

/**
 * Calls `show` with a fresh estimate DEBOUNCE_MS after the last `changed()`. `promptOf`
 * returns undefined for an empty graph. A newer change aborts an older request.
 */
export interface Estimator {
  /** The graph changed: estimate again once changes stop for 500 ms. */
  changed(): void;
  /** The same graph may now cost something else (a run filled the cache): ask again. */
  invalidate(): void;
}

export function createEstimator(promptOf: () => Record<string, unknown> | undefined, show: (view: EstimateView) => void): Estimator {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastJson: string | undefined;
  let inFlight: AbortController | undefined;
  const refresh = async (): Promise<void> => {
    const prompt = promptOf();
    const json = JSON.stringify(prompt ?? null);
    if (json === lastJson) return;
    lastJson = json;
    inFlight?.abort();
    if (!prompt) return show({ text: '', title: '', tone: 'idle' });
    const controller = (inFlight = new AbortController());
    try {
      const view = await fetchEstimate(prompt, controller.signal);
      if (!controller.signal.aborted) show(view);
    } catch (error) {
      if (controller.signal.aborted) return;
      // Forget the prompt, so the next change asks again once the server is back.
      lastJson = undefined;
      show({ text: '≈ ?', title: `No estimate: ${error instanceof Error ? error.message : String(error)}`, tone: 'error' });
    }
  };
  // One timer at a time, re-armed for the remainder: loading a big file reports a change
  // per node, and each report must stay as cheap as reading the clock.
  let lastChange = 0;
  const fire = (): void => {
    const wait = lastChange + DEBOUNCE_MS - performance.now();
    if (wait > 0) timer = setTimeout(fire, wait);
    else {
      timer = undefined;
      void refresh();
    }
  };
  const changed = (): void => {
    lastChange = performance.now();
    timer ??= setTimeout(fire, DEBOUNCE_MS);
  };
  const invalidate = (): void => {
    lastJson = undefined;
    changed();
  };
  return { changed, invalidate };
}
