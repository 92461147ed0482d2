import { describe, expect, it } from 'vitest';
import { escapeHtml, parseTypedNumber } from '../../../src/editor/safe-litegraph.js';

describe('safe-litegraph', () => {
  it('escapes every character that could open markup or an attribute', () => {
    expect(escapeHtml('<img src=x onerror="a(\'b\')">&')).toBe('&#60;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&#62;&#38;');
    expect(escapeHtml('KSampler')).toBe('KSampler');
  });

  it('reads a typed number as a number, and anything else (code, expressions, blanks) as NaN', () => {
    expect(parseTypedNumber(' 42 ')).toBe(42);
    expect(parseTypedNumber('1.5')).toBe(1.5);
    expect(parseTypedNumber('-3e2')).toBe(-300);
    for (const text of ['1;window.__pwned=2//1.5', '(6*7)', '', '   ', 'alert(1)', null]) expect(parseTypedNumber(text)).toBeNaN();
  });
});
