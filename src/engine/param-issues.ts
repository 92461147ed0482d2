import type { z } from 'zod';
import type { AnyNodeDefinition } from './define-node.js';
import type { Issue } from './errors.js';
import type { GraphNode } from './graph.js';
import { paramSpecs, type ParamSpec } from './params.js';

/**
 * Checks a node's widget values against its params schema and speaks ComfyUI's
 * validation vocabulary (value_not_in_list, value_bigger_than_max, …) instead of zod's.
 */

/** ComfyUI shortens long combo lists in messages. */
const LIST_LIMIT = 20;

export interface ParamCheck {
  issues: Issue[];
  /** The parsed params (defaults applied) when they are valid. */
  params?: Record<string, unknown>;
}

const namesCache = new WeakMap<AnyNodeDefinition, Set<string>>();

/** The definition's param names, as a set built once per definition (checked for every node). */
function paramNames(def: AnyNodeDefinition): Set<string> {
  let names = namesCache.get(def);
  if (!names) namesCache.set(def, (names = new Set(Object.keys(def.params.shape))));
  return names;
}

export function checkParams(node: GraphNode, def: AnyNodeDefinition): ParamCheck {
  const names = paramNames(def);
  // Unknown params are ignored, as ComfyUI ignores unknown inputs. The schema only reads its input, so the node's
  // own params go in as they are when every key is known (the usual case: no copy per node of a big file).
  const result = def.params.safeParse(onlyKnown(node.params, names));
  if (result.success) return { issues: [], params: result.data as Record<string, unknown> };
  const specs = paramSpecs(def);
  const issues = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const spec = specs.find((s) => s.name === String(issue.path[0]));
    const value = issue.path.length > 0 ? valueAt(node.params, issue.path) : node.params;
    return toIssue(issue, { nodeId: node.id, nodeType: node.type, field, spec, value });
  });
  return { issues };
}

function onlyKnown(params: Record<string, unknown>, names: Set<string>): Record<string, unknown> {
  let allKnown = true;
  for (const name in params) {
    if (!names.has(name)) {
      allKnown = false;
      break;
    }
  }
  if (allKnown) return params;
  const known: Record<string, unknown> = {};
  for (const name in params) if (Object.hasOwn(params, name) && names.has(name)) known[name] = params[name];
  return known;
}

interface Where {
  nodeId: string;
  nodeType: string;
  field: string;
  spec: ParamSpec | undefined;
  value: unknown;
}

function toIssue(issue: z.core.$ZodIssue, where: Where): Issue {
  const { spec, value } = where;
  if (value === undefined && issue.code === 'invalid_type') {
    return make(where, 'required_input_missing', 'Required input is missing', `${where.field} has no value`);
  }
  if (spec?.kind === 'COMBO' && (issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    return make(where, 'value_not_in_list', 'Value not in list', `${show(value)} not in ${listText(spec.options ?? [])}`);
  }
  switch (issue.code) {
    case 'too_small':
      return make(where, 'value_smaller_than_min', 'Value smaller than min', limitText(value, issue.minimum, issue.inclusive));
    case 'too_big':
      return make(where, 'value_bigger_than_max', 'Value bigger than max', limitText(value, issue.maximum, issue.inclusive));
    case 'invalid_type':
      return make(where, 'invalid_input_type', 'Invalid input type', `expected ${issue.expected}, received ${show(value)}`);
    case 'invalid_value':
      return make(where, 'value_not_in_list', 'Value not in list', `${show(value)} not in ${listText(issue.values)}`);
    default:
      return make(where, 'custom_validation_failed', 'Invalid value', `${show(value)}: ${issue.message}`);
  }
}

function make(where: Where, type: string, message: string, details: string): Issue {
  return {
    type,
    nodeId: where.nodeId,
    nodeType: where.nodeType,
    field: where.field,
    message,
    details,
    extra_info: { input_name: where.field, ...(where.value !== undefined ? { received_value: where.value } : {}) },
  };
}

/** Strings and lists are measured in characters/items; numbers by value. */
function limitText(value: unknown, limit: number | bigint, inclusive: boolean | undefined): string {
  const bound = inclusive === false ? ` (exclusive)` : '';
  if (typeof value === 'string') return `${value.length} characters, limit ${limit}${bound}`;
  if (Array.isArray(value)) return `${value.length} items, limit ${limit}${bound}`;
  return `${show(value)}, limit ${limit}${bound}`;
}

function listText(options: readonly unknown[]): string {
  if (options.length > LIST_LIMIT) return `(list of length ${options.length})`;
  return `[${options.map(show).join(', ')}]`;
}

/** A value as it appears in a message; long strings are cut so a prompt does not flood the line. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}
