import { describe, expect, it } from 'vitest';
import { parseByteRange } from '../../../src/http/range.js';

describe('parseByteRange', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=900-', { start: 900, end: 999 }],
    ['bytes=-10', { start: 990, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=990-5000', { start: 990, end: 999 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=50-10', 'unsatisfiable'],
    ['bytes=-', 'malformed'],
    ['bytes=0-9,20-29', 'malformed'],
    ['items=0-9', 'malformed'],
  ])('reads %s of a 1000-byte resource as %j', (header, expected) => {
    expect(parseByteRange(header, 1000)).toEqual(expected);
  });
});
