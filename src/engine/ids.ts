/**
 * How node ids are ordered wherever order matters (the plan, cycles): numeric ids, ComfyUI's, in numeric order first,
 * then the rest in string order, so the same file always runs in the same order.
 */
export function compareIds(a: string, b: string): number {
  return compareNumbered(a, numericId(a), b, numericId(b));
}

/** compareIds with each id's numericId worked out beforehand: a sort classifies each id once, not per comparison. */
export function compareNumbered(a: string, numA: number, b: string, numB: number): number {
  if (numA >= 0 && numB >= 0) return numA - numB || a.localeCompare(b);
  if (numA >= 0 !== numB >= 0) return numA >= 0 ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The value of an id made only of the digits 0-9 (ComfyUI's ids), or -1 for any other id. A loop over the characters
 * rather than a regular expression: ordering a 100k-node file checks every id, and the regex allocated each time.
 */
export function numericId(id: string): number {
  if (id.length === 0) return -1;
  for (let c = 0; c < id.length; c++) {
    const code = id.charCodeAt(c);
    if (code < 48 || code > 57) return -1;
  }
  return Number(id);
}

/** Whether `ids` are already in compareIds order (the usual API prompt). */
export function idsInOrder(ids: string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (compareIds(ids[i - 1]!, ids[i]!) > 0) return false;
  return true;
}
