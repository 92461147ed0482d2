import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Integration and browser tests run the built CLI, server and editor: refuse to run them against a `dist` or
 * `dist-editor` older than `src`, which would test yesterday's code and pass or fail for the wrong reason.
 */

const ROOT = resolve(import.meta.dirname, '../..');

function newestMtime(dir: string, filter: (path: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = filter(path) ? Math.max(newest, newestMtime(path, filter)) : newest;
    else if (filter(path)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(dir: string): number {
  try {
    return newestMtime(join(ROOT, dir), () => true);
  } catch {
    return 0;
  }
}

export default function requireFreshBuild(): void {
  const editor = join(ROOT, 'src', 'editor');
  const source = newestMtime(join(ROOT, 'src'), (path) => !path.startsWith(editor));
  const stale: string[] = [];
  if (builtAt('dist') < source) stale.push('dist (npm run build)');
  if (builtAt('dist-editor') < Math.max(newestMtime(editor, () => true), statSync(join(ROOT, 'index.html')).mtimeMs)) stale.push('dist-editor (npm run build:editor)');
  if (stale.length > 0) {
    throw new Error(`The build is older than src/: rebuild ${stale.join(' and ')}, or run npm test, which builds first.`);
  }
}
