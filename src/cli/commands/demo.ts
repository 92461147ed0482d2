import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../args.js';
import { loadWorkflow } from '../load.js';
import { TerminalView } from '../render.js';
import { createHttpClient } from '../../http/client.js';
import { runWorkflow } from '../../app/run.js';
import { startEmulator } from '../../emulator/index.js';
import { emulatorEnv } from '../emulator-env.js';
import { freePort } from '../../http/free-port.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/**
 * `reelgraph demo` (npm start): every example workflow against the built-in emulator,
 * started in-process. No keys, no network.
 */
export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { 'output-dir': { type: 'string' }, json: { type: 'boolean' } }, 'reelgraph demo [--output-dir DIR] [--json]');
  const outputDir = resolve(values['output-dir'] ?? 'output');
  const emulator = await startEmulator({ port: 0 });
  const env = { ...process.env, ...emulatorEnv(emulator.url) };
  // RunComfy needs a URL it can fetch the image from: serve it on loopback, where the emulator fetches it.
  const publicUrl = `http://127.0.0.1:${await freePort()}`;
  let failures = 0;
  // One HTTP client for every example, closed on the way out.
  const http = createHttpClient();
  try {
    const files = (await readdir(EXAMPLES)).filter((name) => name.endsWith('.json')).sort();
    for (const file of files) {
      const workflow = await loadWorkflow(join(EXAMPLES, file));
      process.stderr.write(`\n${file}\n`);
      const nodes = [...workflow.parsed.graph.nodes.values()].map((node) => ({ id: node.id, type: node.type }));
      const view = new TerminalView(nodes, outputDir);
      const result = await runWorkflow(workflow.parsed, {
        inputDir: workflow.folder,
        outputDir,
        publicUrl,
        env,
        cache: false,
        http,
        onEvent: values.json ? (event) => process.stdout.write(`${JSON.stringify(event)}\n`) : (event) => view.handle(event),
      });
      view.stop();
      if (result.status !== 'success') failures++;
      const outcome = result.status === 'invalid' ? 'invalid' : result.status === 'error' ? `failed: ${result.error?.message}` : result.status;
      process.stderr.write(result.status === 'success' ? `  → ${view.summary().join(', ')}\n` : `  ${outcome}\n`);
    }
    process.stderr.write(`\nEmulator: ${emulator.creates()} jobs created, videos in ${outputDir}\n`);
  } finally {
    await http.close();
    await emulator.close();
  }
  return failures === 0 ? 0 : 1;
}
