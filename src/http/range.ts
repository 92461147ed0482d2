/** HTTP `Range: bytes=…` parsing, shared by the local server and the provider emulator. */

export type ByteRange = { start: number; end: number };

/**
 * A single `bytes=` range (start-end, start-, -suffix) clamped to `size`, undefined when there
 * is no header, 'malformed' when it is not one such range, and 'unsatisfiable' when it starts
 * past the end. Callers decide what a malformed header means (RFC 9110 allows ignoring it).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | 'malformed' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'malformed';
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
