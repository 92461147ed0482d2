// Soak: many jobs through the real runtime (runWorkflow, journal on) against the in-process
// emulator on loopback, first fault-free, then with a share of responses faulted. Reports jobs
// completed, duplicate creates (goal 0), partial files (goal 0) and what the faults cost in time.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../dist/emulator/index.js';
import { emulatorEnv } from '../dist/cli/emulator-env.js';
import { parseWorkflow } from '../dist/comfy/index.js';
import { runWorkflow } from '../dist/app/run.js';
import { JobJournal } from '../dist/jobs/journal.js';
import { createHttpClient } from '../dist/http/client.js';
import { createNodeRegistry } from '../dist/nodes/index.js';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const CONCURRENCY = 50;

/** One job: LoadImage → ValidateImage → RunwayI2V → Poll → SaveVideo, made distinct by its seed. */
function jobPrompt(seed) {
  return {
    1: { class_type: 'LoadImage', inputs: { image: 'images/sunset.jpg' } },
    2: { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
    3: {
      class_type: 'RunwayI2V',
      inputs: { image: ['2', 0], provider: 'runway', model: 'gen4_turbo', promptText: `soak ${seed}`, ratio: '1280:720', duration: 5, seed, watermark: false },
    },
    4: { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: 0.05, timeout_s: 300 } },
    5: { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: `soak/job${seed}`, format: 'auto', codec: 'auto' } },
  };
}

/**
 * `rate` of the responses to polls, results and downloads are faulted: 429, 503 and a dropped
 * connection in equal shares (and a body cut halfway, for downloads). Creates are left alone: by
 * design they are never retried, so a faulted create ends its job as "outcome unknown" (the fault
 * suite covers that) instead of exercising recovery. The first rule that fires wins, so each
 * later rule's probability is scaled to keep the shares equal.
 */
function faultPlan(rate) {
  const rules = [];
  const actions = {
    poll: [{ type: 'status', status: 429, retryAfterS: 0 }, { type: 'status', status: 503 }, { type: 'drop-before-response' }],
    download: [{ type: 'status', status: 503 }, { type: 'drop-before-response' }, { type: 'truncate', atFraction: 0.5 }],
  };
  actions.result = actions.poll;
  for (const [kind, list] of Object.entries(actions)) {
    const share = rate / list.length;
    list.forEach((action, i) => rules.push({ kind, probability: share / (1 - i * share), action }));
  }
  return { rules, seed: 42 };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function countPartials(dir) {
  const entries = await readdir(dir, { recursive: true }).catch(() => []);
  return entries.filter((name) => String(name).endsWith('.partial')).length;
}

/** Runs `jobs` single-job workflows with bounded concurrency; returns per-job durations and outcomes. */
async function runPhase({ jobs, firstSeed, emulator, http, root }) {
  const outputDir = join(root, 'out');
  const journal = new JobJournal(join(root, 'state'));
  const registry = createNodeRegistry();
  const env = { ...process.env, ...emulatorEnv(emulator.url) };
  const durations = [];
  const bySeed = new Map();
  const failures = [];
  let next = 0;
  async function worker() {
    while (next < jobs) {
      const seed = firstSeed + next++;
      const parsed = parseWorkflow(jobPrompt(seed), registry);
      const started = performance.now();
      const result = await runWorkflow(parsed, { inputDir: EXAMPLES, outputDir, env, http, cache: false, journal, concurrency: 4 });
      if (result.status === 'success') {
        durations.push(performance.now() - started);
        bySeed.set(seed, performance.now() - started);
      }
      else failures.push(result.status === 'invalid' ? 'invalid' : (result.error?.message ?? result.status));
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs) }, worker));
  return { durations: durations.sort((a, b) => a - b), bySeed, failures, partials: await countPartials(outputDir) };
}

/** Creates beyond one per distinct request (the seed makes each job's request distinct). */
function duplicateCreates(emulator) {
  const perSeed = new Map();
  for (const job of emulator.jobs()) perSeed.set(job.request.seed, (perSeed.get(job.request.seed) ?? 0) + 1);
  let duplicates = 0;
  for (const count of perSeed.values()) duplicates += count - 1;
  return duplicates;
}

export async function benchSoak({ jobs = 1000, faultRate = 0.05 } = {}) {
  // Fast jobs and tiny frames: what is measured is the runtime under faults, not rendering.
  const emulator = await startEmulator({ port: 0, timing: { queuedMs: 20, runningMs: 60 }, frameWidth: 32, fps: 1 });
  const http = createHttpClient();
  const root = await mkdtemp(join(tmpdir(), 'reelgraph-soak-'));
  try {
    // Warm-up (not measured): JIT, connection pool and encoder start-up would otherwise count against the baseline.
    await runPhase({ jobs: Math.min(50, jobs), firstSeed: 2_000_000, emulator, http, root: join(root, 'warmup') });
    emulator.reset();
    const baseline = await runPhase({ jobs, firstSeed: 1, emulator, http, root: join(root, 'baseline') });
    // Creates are never faulted, so the faultable responses get a higher rate: `faultRate` of ALL responses.
    const faultable = emulator.log.filter((entry) => entry.kind !== 'create').length / Math.max(1, emulator.log.length);
    emulator.reset();
    emulator.setFaults(faultPlan(Math.min(0.5, faultRate / Math.max(0.1, faultable))));
    const faulted = await runPhase({ jobs, firstSeed: 1_000_000, emulator, http, root: join(root, 'faulted') });
    const injected = emulator.log.filter((entry) => entry.fault).length;
    const total = emulator.log.length;
    const report = {
      jobs,
      faultRate,
      injectedFaults: `${injected} of ${total} responses (${((injected / Math.max(1, total)) * 100).toFixed(1)}%)`,
      completed: `${faulted.durations.length} of ${jobs} (baseline ${baseline.durations.length})`,
      duplicateCreates: duplicateCreates(emulator),
      creates: emulator.creates(),
      partialFiles: faulted.partials + baseline.partials,
      baselineMs: { p50: Math.round(percentile(baseline.durations, 50)), p99: Math.round(percentile(baseline.durations, 99)) },
      faultedMs: { p50: Math.round(percentile(faulted.durations, 50)), p99: Math.round(percentile(faulted.durations, 99)) },
    };
    report.extraMs = { p50: report.faultedMs.p50 - report.baselineMs.p50, p99: report.faultedMs.p99 - report.baselineMs.p99 };
    // The jobs that actually met a fault, against the fault-free median.
    const seedOf = new Map(emulator.jobs().map((job) => [job.id, job.request.seed]));
    const hitSeeds = new Set(emulator.log.filter((entry) => entry.fault && entry.jobId).map((entry) => seedOf.get(entry.jobId)));
    const hit = [...hitSeeds].map((seed) => faulted.bySeed.get(seed)).filter((ms) => ms !== undefined).map((ms) => ms - percentile(baseline.durations, 50)).sort((a, b) => a - b);
    report.faultedJobs = { count: hitSeeds.size, extraP50: Math.round(percentile(hit, 50)), extraP99: Math.round(percentile(hit, 99)) };
    const reasons = new Map();
    for (const reason of faulted.failures) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    report.failures = Object.fromEntries([...reasons].slice(0, 5));
    console.log('\nSoak: jobs through the runtime with faulted responses (emulator on loopback)');
    console.log(`  jobs completed      ${report.completed}`);
    console.log(`  faults injected     ${report.injectedFaults}; creates are never faulted`);
    console.log(`  duplicate creates   ${report.duplicateCreates} (goal 0; ${report.creates} creates for ${jobs} jobs)`);
    console.log(`  partial files       ${report.partialFiles} (goal 0)`);
    console.log(`  job time p50 / p99  ${report.faultedMs.p50} / ${report.faultedMs.p99} ms (fault-free ${report.baselineMs.p50} / ${report.baselineMs.p99} ms)`);
    console.log(`  extra from faults   p50 ${report.extraMs.p50} ms, p99 ${report.extraMs.p99} ms over all jobs`);
    console.log(`                      p50 ${report.faultedJobs.extraP50} ms, p99 ${report.faultedJobs.extraP99} ms for the ${report.faultedJobs.count} jobs that met a fault (vs fault-free median)`);
    if (faulted.failures.length > 0) console.log(`  failures            ${JSON.stringify(report.failures)}`);
    return report;
  } finally {
    await emulator.close();
    await http.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const jobs = Number(process.argv[2] ?? 1000);
  benchSoak({ jobs }).then(
    (report) => process.exit(report.duplicateCreates === 0 && report.partialFiles === 0 ? 0 : 1),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
