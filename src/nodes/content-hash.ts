import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** sha256 of a file's content, streamed so a large file is never held in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Input files hashed lately in this process, by identity: a batch of 1,000 rows on one image hashes it once. */
const recent = new Map<string, { identity: string; sha256: string }>();
const RECENT_MAX = 1_000;
/** How recent a change must be for the hash not to be remembered. */
const RACY_MS = 3_000;

/**
 * sha256File for an input read again and again (LoadImage's fingerprint and run, in every row of a
 * batch). The hash is reused only while the file is the same file with the same size and change time
 * (ctime moves on every write and cannot be set back), so an edited image is hashed again. File times
 * move in coarse ticks, so a file changed in the last seconds is never remembered (git's "racy" rule):
 * two same-size writes within one tick must not share a hash.
 */
export async function sha256InputFile(path: string): Promise<string> {
  const before = await stat(path, { bigint: true });
  const identity = `${before.dev}:${before.ino}:${before.size}:${before.ctimeNs}:${before.mtimeNs}`;
  const hit = recent.get(path);
  if (hit?.identity === identity) return hit.sha256;
  const sha256 = await sha256File(path);
  recent.delete(path);
  if (Date.now() - Number(before.ctimeNs / 1_000_000n) < RACY_MS) return sha256;
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(path, { identity, sha256 });
  return sha256;
}
