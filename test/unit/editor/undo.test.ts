import { describe, expect, it } from 'vitest';
import { MAX_STEPS, createUndoHistory } from '../../../src/editor/undo.js';

/** The undo history against a plain object standing in for the graph. */
function setup(startsSaved = true) {
  let graph = { nodes: [] as number[] };
  const history = createUndoHistory(() => graph, (data) => (graph = data as typeof graph), startsSaved);
  const edit = (nodes: number[]) => {
    graph = { nodes };
    history.checkpoint();
  };
  return { history, edit, graph: () => graph };
}

describe('createUndoHistory', () => {
  it('undoes and redoes changes, and a new change drops the redo steps', () => {
    const { history, edit, graph } = setup();
    edit([1]);
    edit([1, 2]);
    expect(history.undo()).toBe(true);
    expect(graph().nodes).toEqual([1]);
    expect(history.redo()).toBe(true);
    expect(graph().nodes).toEqual([1, 2]);
    history.undo();
    edit([1, 3]);
    expect(history.redo()).toBe(false);
    history.undo();
    history.undo();
    expect(graph().nodes).toEqual([]);
    expect(history.undo()).toBe(false);
  });

  it('keeps a change that has not settled yet before undoing it', () => {
    let graph = { nodes: [1] };
    const history = createUndoHistory(() => graph, (data) => (graph = data as typeof graph));
    graph = { nodes: [1, 2] };
    history.changed();
    expect(history.undo()).toBe(true);
    expect(graph.nodes).toEqual([1]);
    expect(history.redo()).toBe(true);
    expect(graph.nodes).toEqual([1, 2]);
  });

  it('keeps at most MAX_STEPS snapshots', () => {
    const { history, edit, graph } = setup();
    for (let i = 1; i <= MAX_STEPS + 20; i++) edit([i]);
    let undone = 0;
    while (history.undo()) undone++;
    expect(undone).toBe(MAX_STEPS - 1);
    expect(graph().nodes).toEqual([21]);
  });

  it('knows unsaved work from what was last opened or saved', () => {
    const { history, edit } = setup();
    expect(history.unsaved()).toBe(false);
    edit([1]);
    expect(history.unsaved()).toBe(true);
    history.markSaved();
    expect(history.unsaved()).toBe(false);
    expect(setup(false).history.unsaved()).toBe(true);
  });
});
