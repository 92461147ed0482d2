import { describe, expect, it } from 'vitest';
import { shownNodeId } from '../../../src/editor/run-events.js';

/** Nodes inside a subgraph run under execution ids ("10:5:7"); the editor shows them on the instance it opened. */
describe('shownNodeId', () => {
  it('maps an execution id inside (nested) subgraphs to its top-level instance, and leaves plain ids alone', () => {
    expect(shownNodeId('10:5:7')).toBe('10');
    expect(shownNodeId('12:2')).toBe('12');
    expect(shownNodeId('3')).toBe('3');
  });
});
