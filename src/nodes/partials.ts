import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Half-written downloads live beside their destination as `.{base}.{pid}-{random}.partial`, so the
 * final rename is atomic. A process killed mid-download cannot remove its own; the next save into
 * the same folder removes those whose process is gone, so nothing half-written stays behind.
 */

const PARTIAL = /^\..+\.(\d+)-[0-9a-f]+\.partial$/;

export function partialPath(dir: string, base: string): string {
  return join(dir, `.${base}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
}

export async function removeStalePartials(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    const pid = PARTIAL.exec(name)?.[1];
    // This process's own are downloads in progress (many at once in a batch): never stale.
    return pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid));
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
