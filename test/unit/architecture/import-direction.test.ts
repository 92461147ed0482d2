import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule of docs/architecture.md, read from the import lines of every source file:
 * the engine knows no domain, the ComfyUI formats know only the engine, and so on outward.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Which rooms each room may import from (its own is always allowed). Rooms not listed here may import anything. */
const ALLOWED: Record<string, string[]> = {
  engine: [],
  comfy: ['engine'],
  http: ['engine'],
  providers: ['engine', 'http'],
  jobs: ['engine', 'http', 'providers'],
  sharing: ['engine', 'comfy', 'http', 'providers'],
  // comfy: ValidateImage reads its consumers from the workflow's API prompt when the runtime gives none.
  nodes: ['engine', 'comfy', 'http', 'providers', 'jobs', 'sharing'],
  app: ['engine', 'comfy', 'http', 'providers', 'nodes', 'jobs', 'sharing'],
  // Batches of rows: runs through the app, never the CLI or the server.
  batch: ['engine', 'comfy', 'http', 'providers', 'nodes', 'jobs', 'sharing', 'app'],
  // Queue workers on Redis: batches, run by rows.
  worker: ['engine', 'comfy', 'http', 'providers', 'nodes', 'jobs', 'sharing', 'app', 'batch'],
  // The browser page: the shared ComfyUI rules and the MP4 tag reader, nothing that runs in Node.
  editor: ['engine', 'comfy', 'sharing'],
  // The provider emulator is the independent side tests check the client against: its limits come
  // from the providers' documents (src/emulator/limits.ts), never from the client's catalog.
  // Only the generic Range parser is shared.
  emulator: ['http'],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function roomOf(path: string): string {
  return relative(SRC, path).split('/')[0]!;
}

/** Every import of `text` (a file at `path`) that breaks the rule, as one readable line each. */
export function violations(path: string, text: string): string[] {
  const from = roomOf(path);
  const allowed = ALLOWED[from];
  if (!allowed) return [];
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]!;
    if (!spec.startsWith('.')) continue;
    const to = roomOf(resolve(dirname(path), spec));
    if (to !== from && !allowed.includes(to)) {
      found.push(`${relative(SRC, path)} imports '${spec}' (${to}); src/${from} may import only ${[from, ...allowed].join(', ')}`);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(entry.name) ? [path] : [];
  });
}

describe('import direction', () => {
  it('every source file imports only what its room may', () => {
    const problems = sourceFiles(SRC).flatMap((path) => violations(path, readFileSync(path, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('names the offending import when an engine file reaches into the nodes', () => {
    const engineFile = join(SRC, 'engine', 'execute.ts');
    const text = `import { z } from 'zod';\nimport { loadImage } from '../nodes/load-image.js';\nimport type { Graph } from './graph.js';\n`;
    expect(violations(engineFile, text)).toEqual([
      "engine/execute.ts imports '../nodes/load-image.js' (nodes); src/engine may import only engine",
    ]);
  });

  it('catches type-only, re-export and dynamic imports too', () => {
    const comfyFile = join(SRC, 'comfy', 'index.ts');
    const text = [
      "import type { ProviderId } from '../providers/provider.js';",
      "export { openBundle } from '../sharing/bundle.js';",
      "const run = await import('../app/run.js');",
    ].join('\n');
    expect(violations(comfyFile, text)).toHaveLength(3);
  });
});
