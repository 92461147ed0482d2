import { WorkflowParseError } from '../engine/errors.js';

/**
 * Parsing workflow JSON from any source (a file, an upload, an MP4 tag, the editor's file
 * picker) the way ComfyUI's frontend does (NaN and ±Infinity accepted), but defensively:
 * nesting depth is bounded and keys that could alter object prototypes are refused.
 * No Node APIs, so the browser editor uses the same guards.
 */

export const MAX_NESTING_DEPTH = 200;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function randomHex(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** JSON.parse plus NaN/Infinity/-Infinity outside strings. @throws WorkflowParseError */
export function parseWorkflowText(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // A random marker stands in for non-finite numbers, so no real string can collide with it.
  const marker = `\u0000reelgraph-${randomHex()}:`;
  const prepared = replaceNonFinite(body, marker);
  let value: unknown;
  try {
    value = JSON.parse(prepared);
  } catch (error) {
    throw new WorkflowParseError(`The workflow is not valid JSON: ${jsonMessage(error, prepared)}.`, { cause: error });
  }
  // JSON.parse makes a "__proto__" key an own property, so nothing is polluted before this walk refuses it.
  return checkParsed(value, prepared === body ? undefined : marker);
}

/**
 * Refuses prototype-altering keys (the first in the order a JSON.parse reviver meets them: a value's keys before
 * its own) and turns marker strings back into numbers. A walk after a plain JSON.parse, not a reviver: a reviver
 * makes parsing several times slower on a big file. Explicit stack: nesting is bounded, but stays off the call stack.
 */
function checkParsed(root: unknown, marker: string | undefined): unknown {
  const revive = (value: unknown) => (marker !== undefined && typeof value === 'string' && value.startsWith(marker) ? Number(value.slice(marker.length)) : value);
  if (typeof root !== 'object' || root === null) return revive(root);
  interface Frame { holder: Record<string, unknown>; keys: string[] | undefined; length: number; next: number; descended: boolean }
  const frameOf = (holder: object): Frame => {
    const keys = Array.isArray(holder) ? undefined : Object.keys(holder);
    return { holder: holder as Record<string, unknown>, keys, length: keys ? keys.length : (holder as unknown[]).length, next: 0, descended: false };
  };
  const stack: Frame[] = [frameOf(root)];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.length) {
      stack.pop();
      continue;
    }
    const key = frame.keys ? frame.keys[frame.next]! : String(frame.next);
    const value = frame.holder[key];
    if (!frame.descended && typeof value === 'object' && value !== null) {
      frame.descended = true;
      stack.push(frameOf(value));
      continue;
    }
    if (frame.keys && FORBIDDEN_KEYS.has(key)) throw new WorkflowParseError(`The workflow JSON has a "${key}" key, which is refused because it can alter objects.`);
    if (marker !== undefined && typeof value === 'string') frame.holder[key] = revive(value);
    frame.next++;
    frame.descended = false;
  }
  return root;
}

const NON_FINITE = ['-Infinity', 'Infinity', 'NaN'];

/** One pass over the text: tracks strings and depth, rewrites bare NaN/Infinity tokens. */
function replaceNonFinite(text: string, marker: string): string {
  const parts: string[] = [];
  let copiedUpTo = 0;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      i = endOfString(text, i);
    } else if (char === '{' || char === '[') {
      if (++depth > MAX_NESTING_DEPTH) throw new WorkflowParseError(`The workflow JSON nests deeper than ${MAX_NESTING_DEPTH} levels.`);
    } else if (char === '}' || char === ']') {
      depth--;
    } else if (char === 'N' || char === 'I' || char === '-') {
      const token = NON_FINITE.find((t) => text.startsWith(t, i));
      if (!token) continue;
      parts.push(text.slice(copiedUpTo, i), JSON.stringify(marker + token));
      i += token.length - 1;
      copiedUpTo = i + 1;
    }
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(copiedUpTo));
  return parts.join('');
}

/** Index of the closing quote of the string that starts at `start` (or the end of the text). */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '"') return i;
  }
  return text.length;
}

/** JSON.parse's message with the position turned into line and column. */
function jsonMessage(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /position (\d+)/.exec(message);
  if (!match) return message.replace(/\.$/, '');
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/s, '').replace(/\.$/, '')} at line ${line}, column ${column}`;
}
