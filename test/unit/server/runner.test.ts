import { describe, expect, it } from 'vitest';
import { apiToGraph } from '../../../src/comfy/index.js';
import { cachedLine } from '../../../src/server/runner.js';

/** `count` nodes LoadImage → ValidateImage → RunwayI2V → Poll → SaveVideo, repeated, as an API prompt. */
function prompt(count: number): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  const types = ['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo'];
  const result: Record<string, { class_type: string; inputs: Record<string, unknown> }> = {};
  for (let i = 1; i <= count; i++) result[String(i)] = { class_type: types[(i - 1) % 5]!, inputs: i % 5 === 1 ? {} : { in: [String(i - 1), 0] } };
  return result;
}

describe('cachedLine (what a prompt worker logs about nodes taken from the output cache)', () => {
  it('names each cached node with its type, so a re-run that found RunwayI2V cached says so', () => {
    const graph = apiToGraph(prompt(5));
    expect(cachedLine(graph, ['1', '2', '3'])).toBe('taken from the output cache, not run again: Node "1" (LoadImage), Node "2" (ValidateImage), Node "3" (RunwayI2V)');
  });

  it('names ten nodes at most and counts the rest (a 100k-node prompt stays one line)', () => {
    const graph = apiToGraph(prompt(25));
    const ids = Array.from({ length: 25 }, (_, i) => String(i + 1));
    const line = cachedLine(graph, ids);
    expect(line).toContain('Node "10" (SaveVideo)');
    expect(line).not.toContain('Node "11"');
    expect(line.endsWith(' and 15 more')).toBe(true);
  });
});
