// Issue 3's figures: 200 concurrent jobs, a 200 MB download against curl, and ValidateImage's
// header read against a full decode. Everything runs against loopback servers started here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { emulatorEnv } from '../dist/cli/emulator-env.js';
import { parseWorkflow } from '../dist/comfy/index.js';
import { runWorkflow } from '../dist/app/run.js';
import { createNodeRegistry } from '../dist/nodes/index.js';
import { createHttpClient } from '../dist/http/client.js';
import { downloadToFile } from '../dist/nodes/download.js';
import { readImageHeader } from '../dist/nodes/image-header.js';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;

/**
 * The emulator in its own process, as a real provider would be: sharing our event loop would
 * charge its work (image checks, serving bytes) to the client being measured.
 */
async function startEmulatorProcess(config = {}) {
  const child = spawn(process.execPath, [CLI, 'emulate', '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const [chunk] = await once(child.stdout, 'data');
  const { url } = JSON.parse(String(chunk).split('\n')[0]);
  const post = (path, body) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (Object.keys(config).length) await post('/_emulator/config', config);
  return {
    url,
    async creates() {
      const log = await (await fetch(`${url}/_emulator/log`)).json();
      return (Array.isArray(log) ? log : log.entries ?? log.log ?? []).filter((entry) => entry.kind === 'create').length;
    },
    async log() {
      const body = await (await fetch(`${url}/_emulator/log`)).json();
      return Array.isArray(body) ? body : body.log;
    },
    async jobs() {
      return (await (await fetch(`${url}/_emulator/jobs`)).json()).jobs;
    },
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
const silent = { debug() {}, info() {}, warn() {} };

/** An API-format workflow: one image, `count` independent RunwayI2V → Poll → SaveVideo branches. */
function fanOutPrompt(count, pollIntervalS) {
  const prompt = {
    1: { class_type: 'LoadImage', inputs: { image: 'images/sunset.jpg' } },
    2: { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
  };
  for (let i = 0; i < count; i++) {
    const base = 10 + i * 3;
    prompt[base] = {
      class_type: 'RunwayI2V',
      inputs: { image: ['2', 0], provider: 'runway', model: 'gen4_turbo', promptText: `branch ${i}`, ratio: '1280:720', duration: 5, seed: i, watermark: false },
    };
    prompt[base + 1] = { class_type: 'Poll', inputs: { task: [String(base), 0], interval_s: pollIntervalS, timeout_s: 600 } };
    prompt[base + 2] = { class_type: 'SaveVideo', inputs: { video: [String(base + 1), 0], filename_prefix: `bench/b${i}`, format: 'auto', codec: 'auto' } };
  }
  return prompt;
}

/** 200 jobs at once: wall time from start to the last Poll finishing, over (job time + one poll interval). */
export async function benchConcurrentJobs({ jobs = 200, queuedMs = 1000, runningMs = 2000, pollIntervalS = 0.5 } = {}) {
  // Tiny frames: the emulator's encoder runs one render at a time, and rendering is not what we measure.
  const emulator = await startEmulatorProcess({ timing: { queuedMs, runningMs }, frameWidth: 32, fps: 1 });
  const out = await mkdtemp(join(tmpdir(), 'reelgraph-bench-'));
  try {
    const parsed = parseWorkflow(fanOutPrompt(jobs, pollIntervalS), createNodeRegistry());
    const pollIds = new Set(Object.entries(parsed.api).filter(([, n]) => n.class_type === 'Poll').map(([id]) => id));
    let lastPollDone = 0;
    const started = performance.now();
    const result = await runWorkflow(parsed, {
      inputDir: EXAMPLES,
      outputDir: out,
      env: { ...process.env, ...emulatorEnv(emulator.url) },
      cache: false,
      concurrency: jobs * 3,
      journal: false,
      onEvent: (event) => {
        if (event.type !== 'progress_state') return;
        for (const [id, node] of Object.entries(event.data.nodes)) if (pollIds.has(id) && node.state === 'finished') lastPollDone = performance.now();
      },
    });
    const totalMs = performance.now() - started;
    if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.error?.message}`);
    const idealMs = queuedMs + runningMs + pollIntervalS * 1000;
    return { jobs, creates: await emulator.creates(), jobMs: queuedMs + runningMs, pollMs: pollIntervalS * 1000, wallMs: lastPollDone - started, totalMs, ratio: (lastPollDone - started) / idealMs };
  } finally {
    await emulator.close();
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The ideal schedule for `jobs` creates under a token-bucket create limit (`perSecond`, holding
 * one second's worth) and `slots` provider slots held `holdMs` each (FIFO): when the last job
 * finishes if the client wasted no time at all, plus one poll interval to see it.
 */
export function idealSchedule({ jobs, perSecond, slots, holdMs, pollMs }) {
  const releases = [];
  let last = 0;
  for (let i = 0; i < jobs; i++) {
    const createdAt = i < perSecond ? 0 : ((i - perSecond + 1) * 1000) / perSecond;
    let startAt = createdAt;
    if (releases.length >= slots) {
      releases.sort((a, b) => a - b);
      startAt = Math.max(createdAt, releases.shift());
    }
    releases.push(startAt + holdMs);
    last = Math.max(last, startAt + holdMs);
  }
  return last + pollMs;
}

/**
 * Issue 11: 200 jobs against provider slots = 20 (Runway THROTTLED beyond) and a create limit of
 * 10/s (429 with Retry-After): wall time to the last Poll finishing over the ideal schedule
 * computed here from the same numbers; every create once, nothing cancelled.
 */
export async function benchProviderLimits({ jobs = 200, slots = 20, perSecond = 10, queuedMs = 200, runningMs = 800, pollIntervalS = 0.5 } = {}) {
  const emulator = await startEmulatorProcess({ timing: { queuedMs, runningMs }, frameWidth: 32, fps: 1, runwayMaxConcurrent: slots, createRatePerS: perSecond });
  const out = await mkdtemp(join(tmpdir(), 'reelgraph-bench-'));
  try {
    const parsed = parseWorkflow(fanOutPrompt(jobs, pollIntervalS), createNodeRegistry());
    const pollIds = new Set(Object.entries(parsed.api).filter(([, n]) => n.class_type === 'Poll').map(([id]) => id));
    let lastPollDone = 0;
    const started = performance.now();
    const result = await runWorkflow(parsed, {
      inputDir: EXAMPLES,
      outputDir: out,
      env: { ...process.env, ...emulatorEnv(emulator.url) },
      cache: false,
      journal: false,
      onEvent: (event) => {
        if (event.type !== 'progress_state') return;
        for (const [id, node] of Object.entries(event.data.nodes)) if (pollIds.has(id) && node.state === 'finished') lastPollDone = performance.now();
      },
    });
    if (result.status !== 'success') throw new Error(`bench run ended ${result.status}: ${result.error?.message}`);
    const wallMs = lastPollDone - started;
    const idealMs = idealSchedule({ jobs, perSecond, slots, holdMs: queuedMs + runningMs, pollMs: pollIntervalS * 1000 });
    const log = await emulator.log();
    const created = await emulator.jobs();
    const distinct = new Set(created.map((job) => job.request.seed)).size;
    return {
      jobs,
      slots,
      perSecond,
      wallMs,
      idealMs,
      ratio: wallMs / idealMs,
      created: created.length,
      duplicates: created.length - distinct,
      refused: log.filter((entry) => entry.kind === 'create' && entry.status === 429).length,
      cancels: log.filter((entry) => entry.kind === 'cancel').length,
    };
  } finally {
    await emulator.close();
    await rm(out, { recursive: true, force: true });
  }
}

/** Streams a 200 MB file through our downloader and through curl; also peak RSS growth while we download. */
export async function benchDownload({ megabytes = 200 } = {}) {
  const emulator = await startEmulatorProcess();
  const dir = await mkdtemp(join(tmpdir(), 'reelgraph-dl-'));
  const bytes = megabytes * 1024 * 1024;
  const url = `${emulator.url}/_emulator/blob/${bytes}.mp4`;
  try {
    const curlStart = performance.now();
    // Asynchronously: the emulator serving the file runs in this very process.
    await promisify(execFile)('curl', ['-sS', '-o', join(dir, 'curl.mp4'), url]);
    const curlMs = performance.now() - curlStart;

    const http = createHttpClient();
    // Warm up first, so one-time costs (undici's parser, code loading) are not counted as growth.
    const warmUrl = `${emulator.url}/_emulator/blob/${1024 * 1024}.mp4`;
    await downloadToFile({ http, url: warmUrl, dest: join(dir, 'warm.mp4'), signal: new AbortController().signal, refreshUrl: async () => warmUrl, log: silent });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const ourStart = performance.now();
    await downloadToFile({ http, url, dest: join(dir, 'ours.mp4'), signal: new AbortController().signal, refreshUrl: async () => url, log: silent });
    const ourMs = performance.now() - ourStart;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    await http.close?.();
    const size = (await stat(join(dir, 'ours.mp4'))).size;
    if (size !== bytes) throw new Error(`downloaded ${size} bytes, expected ${bytes}`);
    const mbps = (ms) => megabytes / (ms / 1000);
    return { megabytes, oursMBps: mbps(ourMs), curlMBps: mbps(curlMs), ratio: curlMs / ourMs, peakRssGrowthMB: (peak - baseline) / 1024 / 1024 };
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** ValidateImage reads only the header; a full decode is what a naive check would do. */
export async function benchValidateImage({ width = 7000, height = 4000, rounds = 20 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'reelgraph-img-'));
  const file = join(dir, 'big.jpg');
  try {
    await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 160 } } })
      .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="orange"/></svg>`) }])
      .jpeg({ quality: 90 })
      .toFile(file);
    sharp.cache(false);
    const header = await timeEach(rounds, () => readImageHeader(file));
    const decode = await timeEach(3, () => sharp(file).raw().toBuffer());
    return { pixels: `${width}×${height}`, headerMs: header, decodeMs: decode, speedup: decode / header };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timeEach(rounds, fn) {
  await fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
}
