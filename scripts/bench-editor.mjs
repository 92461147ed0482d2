// Editor benchmark: the gzip size of the built editor, and how long Chromium takes to
// load a generated 1,000-node workflow into it and draw it. Needs `npm run build` and
// `npm run build:editor` first, and Chromium at /usr/bin/chromium.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const editorDir = join(root, 'dist-editor');
const CHROMIUM = '/usr/bin/chromium';

/** Sum of each built editor file gzipped at level 9 (what a browser downloads). */
async function bundleGzipBytes() {
  const files = [join(editorDir, 'index.html')];
  for (const name of await readdir(join(editorDir, 'assets'))) files.push(join(editorDir, 'assets', name));
  let total = 0;
  for (const file of files) total += gzipSync(await readFile(file), { level: 9 }).length;
  return total;
}

/** 200 copies of the five-node pipeline in UI format 0.4, laid out in a grid. */
export function generateWorkflow(chains = 200) {
  const chain = [
    ['LoadImage', ['input.png', 'image'], [], 'IMAGE'],
    ['ValidateImage', [], ['image', 'IMAGE'], 'IMAGE'],
    ['RunwayI2V', ['runway', 'gen4_turbo', 'a slow pan', '1280:720', 5, 1, 'fixed', false], ['image', 'IMAGE'], 'TASK'],
    ['Poll', [5, 1800], ['task', 'TASK'], 'VIDEO'],
    ['SaveVideo', ['bench/clip', 'auto', 'auto'], ['video', 'VIDEO'], null],
  ];
  const nodes = [];
  const links = [];
  let id = 0;
  for (let c = 0; c < chains; c++) {
    chain.forEach(([type, widgets, input, output], step) => {
      id += 1;
      const linkIn = step > 0 ? links.length : null;
      if (step > 0) links.push([linkIn + 1, id - 1, 0, id, 0, input[1]]);
      nodes.push({
        id,
        type,
        pos: [step * 380, c * 360],
        size: [300, 200],
        flags: {},
        order: id,
        mode: 0,
        inputs: step > 0 ? [{ name: input[0], type: input[1], link: linkIn + 1 }] : [],
        outputs: output ? [{ name: output, type: output, links: step < 4 ? [links.length + 1] : [] }] : [],
        properties: { 'Node name for S&R': type },
        widgets_values: widgets,
      });
    });
  }
  return { last_node_id: id, last_link_id: links.length, nodes, links, groups: [], config: {}, extra: {}, version: 0.4 };
}

/** @returns {Promise<{bundleGzipBytes: number, open1000NodesMs: number}>} */
export async function benchEditor() {
  if (!existsSync(join(editorDir, 'index.html'))) throw new Error('dist-editor/ is missing: run `npm run build:editor` first');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Chromium (apt-get install -y chromium)`);
  const { startServer } = await import(pathToFileURL(join(root, 'dist', 'server', 'index.js')).href);
  const { chromium } = await import('playwright-core');
  const temp = await mkdtemp(join(tmpdir(), 'reelgraph-bench-'));
  const server = await startServer({ port: 0, host: '127.0.0.1', inputDir: join(temp, 'input'), outputDir: join(temp, 'output'), env: {}, cache: false });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    const workflow = generateWorkflow(200);
    // Measured in the page: parse into litegraph nodes, then one forced full draw.
    const open1000NodesMs = await page.evaluate((data) => {
      const { reelgraph } = window;
      const start = performance.now();
      reelgraph.loadGraphData(data);
      reelgraph.canvas.draw(true, true);
      return performance.now() - start;
    }, workflow);
    const loaded = await page.evaluate(() => window.reelgraph.graph.nodes.length);
    if (loaded !== workflow.nodes.length) throw new Error(`the editor loaded ${loaded} of ${workflow.nodes.length} nodes`);
    return { bundleGzipBytes: await bundleGzipBytes(), open1000NodesMs: Math.round(open1000NodesMs * 10) / 10 };
  } finally {
    await browser.close();
    await server.close();
    await rm(temp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchEditor().then(
    (result) => console.log(JSON.stringify(result)),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
