/**
 * Undo and redo for every graph change, the simple way: after each change settles, the
 * serialized graph is compared with the last snapshot and kept when it differs (at most
 * MAX_STEPS). Undo loads the previous snapshot. Moves, links, widget values, modes, pastes,
 * Clear and Open are all graph changes, so they all undo the same way.
 */

export const MAX_STEPS = 100;
const SETTLE_MS = 250;

export interface UndoHistory {
  /** Something may have changed: take a snapshot once changes settle. */
  changed(): void;
  /** Take a snapshot now (before Run, say). */
  checkpoint(): void;
  undo(): boolean;
  redo(): boolean;
  /** The current graph is what was last opened or saved. */
  markSaved(): void;
  /** The graph differs from what was last opened or saved. */
  unsaved(): boolean;
}

/** `startsSaved: false`: the graph at hand is not in any file yet (a restored session). */
export function createUndoHistory(serialize: () => unknown, load: (data: unknown) => void, startsSaved = true): UndoHistory {
  const snapshot = (): string => JSON.stringify(serialize());
  const steps: string[] = [snapshot()];
  let index = 0;
  let saved = startsSaved ? steps[0] : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restoring = false;

  const checkpoint = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (restoring) return;
    const current = snapshot();
    if (current === steps[index]) return;
    steps.splice(index + 1, steps.length, current);
    if (steps.length > MAX_STEPS) steps.shift();
    index = steps.length - 1;
  };
  const go = (to: number): boolean => {
    if (to < 0 || to >= steps.length) return false;
    index = to;
    restoring = true;
    try {
      load(JSON.parse(steps[index]!) as unknown);
    } finally {
      restoring = false;
    }
    return true;
  };
  return {
    changed: () => {
      if (restoring) return;
      clearTimeout(timer);
      timer = setTimeout(checkpoint, SETTLE_MS);
    },
    checkpoint,
    // A change still settling is a step of its own: keep it before moving.
    undo: () => {
      checkpoint();
      return go(index - 1);
    },
    redo: () => {
      checkpoint();
      return go(index + 1);
    },
    markSaved: () => {
      checkpoint();
      saved = steps[index];
    },
    unsaved: () => {
      checkpoint();
      return steps[index] !== saved;
    },
  };
}
