// `npm run bench`: speed and memory figures, each against a baseline measured in the same run.
// Every server is on loopback and every loop is bounded; it stops by itself.
import { existsSync } from 'node:fs';
import { benchConcurrentJobs, benchDownload, benchProviderLimits, benchValidateImage } from './bench-providers.mjs';
import { benchImageFit } from './bench-images.mjs';

const here = (name) => new URL(name, import.meta.url);
const fmt = (n, digits = 2) => (typeof n === 'number' ? n.toFixed(digits) : String(n));
const rows = [];
const report = (name, figure, baseline, ratio, goal, ok) => {
  rows.push({ name, figure, baseline, ratio, goal, verdict: ok ? 'meets goal' : 'MISSES goal' });
  console.log(`${name}\n  ${figure}\n  baseline: ${baseline}\n  ratio: ${ratio} (goal ${goal}) → ${ok ? 'meets goal' : 'MISSES goal'}\n`);
};

async function section(name, run) {
  try {
    await run();
  } catch (error) {
    console.log(`${name}: failed: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  }
}

await section('concurrent jobs', async () => {
  const r = await benchConcurrentJobs();
  report(
    `${r.jobs} concurrent jobs against the emulator`,
    `wall ${fmt(r.wallMs, 0)} ms until every job was seen finished (${fmt(r.totalMs, 0)} ms with downloads), ${r.creates} creates`,
    `job time ${r.jobMs} ms + one poll interval ${r.pollMs} ms = ${r.jobMs + r.pollMs} ms`,
    fmt(r.ratio),
    '≤ 1.25',
    r.ratio <= 1.25 && r.creates === r.jobs,
  );
});

await section('provider limits', async () => {
  const r = await benchProviderLimits();
  report(
    `${r.jobs} jobs against provider slots = ${r.slots} and a create limit of ${r.perSecond}/s`,
    `wall ${fmt(r.wallMs, 0)} ms until every job was seen finished; ${r.created} jobs created, ${r.duplicates} duplicate creates, ${r.refused} creates refused with 429, ${r.cancels} cancels`,
    `ideal schedule ${fmt(r.idealMs, 0)} ms (same limits, no time wasted, plus one poll interval)`,
    fmt(r.ratio),
    '≤ 1.15, 0 duplicates, 0 cancels',
    r.ratio <= 1.15 && r.created === r.jobs && r.duplicates === 0 && r.cancels === 0,
  );
});

await section('download', async () => {
  const r = await benchDownload();
  report(
    `Download of a ${r.megabytes} MB video`,
    `ours ${fmt(r.oursMBps, 0)} MB/s, peak RSS growth ${fmt(r.peakRssGrowthMB, 1)} MB (goal ≤ 64 MB)`,
    `curl ${fmt(r.curlMBps, 0)} MB/s on the same URL`,
    fmt(r.ratio),
    '≥ 0.5',
    r.ratio >= 0.5 && r.peakRssGrowthMB <= 64,
  );
});

await section('validate image', async () => {
  const r = await benchValidateImage();
  report(
    `ValidateImage header read and end check on a ${r.pixels} JPEG`,
    `${fmt(r.headerMs, 3)} ms per image`,
    `full decode (sharp, raw pixels) ${fmt(r.decodeMs, 1)} ms`,
    `${fmt(r.speedup, 0)}×`,
    '≥ 50×',
    r.speedup >= 50,
  );
});

await section('image fit', async () => {
  const r = await benchImageFit();
  report(
    `Fit a phone photo for runway (${r.from} → ${r.to})`,
    `${fmt(r.fitMs, 0)} ms per photo (EXIF turn, downscale, JPEG re-encode); ${fmt(r.cachedMs, 1)} ms when the fitted copy is cached`,
    `full decode of the same photo (sharp, raw pixels) ${fmt(r.decodeMs, 0)} ms`,
    `${fmt(r.ratio)}×`,
    // A fit is one decode plus a resize and an encode; past five decodes' worth, work is being redone.
    '≤ 5×',
    r.ratio <= 5,
  );
});

if (existsSync(here('./bench-batch.mjs'))) {
  await section('batch rows', async () => {
    const { benchBatch } = await import('./bench-batch.mjs');
    const r = await benchBatch();
    const row = (name, x, lanes) =>
      report(
        `${r.rows} batch rows, ${name} (${lanes} rows at once, emulator jobs of ${r.jobMs / 1000} s polled every ${r.pollS} s, no provider limit)`,
        `wall ${fmt(x.wallMs / 1000, 1)} s, CPU ${fmt(x.cpuPerRowMs, 1)} ms per row, ${x.redisSentPerRow !== undefined ? `${fmt(x.redisSentPerRow, 1)} Redis commands sent per row (+${fmt(x.redisInScriptsPerRow, 1)} run inside scripts)` : `overhead ${fmt(x.overheadPerRowMs, 1)} ms per row over the ideal`}, row time median ${fmt(x.rowMsMedian / 1000, 1)} s, ${x.creates} creates`,
        `ideal ${fmt(x.idealMs / 1000, 1)} s = one row alone ${fmt(r.oneWallMs / 1000, 2)} s + ${Math.ceil(r.rows / lanes) - 1} more waves × its row time ${fmt(r.oneRowMs / 1000, 1)} s (same run)`,
        fmt(x.ratio),
        '≤ 1.2',
        x.ratio <= 1.2 && x.creates === r.rows,
      );
    row('in-process (no Redis)', r.inProcess, r.lanes);
    row('1 worker on Redis', r.oneWorker, r.lanes);
    row('3 workers on Redis', r.threeWorkers, 3 * r.lanes);
  });
}

await section('engine', async () => {
  const { benchEngine } = await import('./bench-engine.mjs');
  for (const r of await benchEngine()) rows.push({ name: r.name, figure: r.figure, ratio: r.figure, goal: r.goal, verdict: r.ok ? 'meets goal' : 'MISSES goal' });
});

if (existsSync(here('./bench-editor.mjs'))) {
  await section('editor', async () => {
    const { benchEditor } = await import('./bench-editor.mjs');
    const r = await benchEditor();
    const kb = r.bundleGzipBytes / 1024;
    report('Editor bundle (gzip, litegraph included)', `${fmt(kb, 1)} KB`, 'goal 200 KB', fmt(kb / 200), '≤ 1.00', kb <= 200);
    report('Open and draw a 1,000-node workflow in Chromium', `${fmt(r.open1000NodesMs, 0)} ms`, 'goal 1000 ms', fmt(r.open1000NodesMs / 1000), '≤ 1.00', r.open1000NodesMs < 1000);
  });
}

if (existsSync(here('./bench-soak.mjs'))) {
  await section('soak', async () => {
    const { benchSoak } = await import('./bench-soak.mjs');
    await benchSoak({ jobs: 1000, faultRate: 0.05 });
  });
}

console.log('Summary');
for (const row of rows) console.log(`  ${row.verdict.padEnd(12)} ${row.name}: ratio ${row.ratio} (goal ${row.goal})`);
process.exit(process.exitCode ?? 0);
