import { z } from 'zod';
import type { AnyNodeDefinition, WidgetHints } from './define-node.js';

/**
 * What each param looks like as a widget, derived from the definition's zod schema (through its JSON Schema),
 * so object_info, the positional widgets_values mapping and the validator all read the same facts.
 */

export type WidgetKind = 'STRING' | 'INT' | 'FLOAT' | 'BOOLEAN' | 'COMBO' | '*';

export interface ParamSpec {
  name: string;
  kind: WidgetKind;
  /** Whether the param may be left out entirely (optional without a default). */
  optional: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  /** Allowed values of a combo. */
  options?: unknown[];
  hints: WidgetHints;
}

type JsonSchema = Record<string, unknown>;

const specCache = new WeakMap<AnyNodeDefinition, ParamSpec[]>();

/** The definition's params in widget order. */
export function paramSpecs(def: AnyNodeDefinition): ParamSpec[] {
  const cached = specCache.get(def);
  if (cached) return cached;
  const json = paramsJsonSchema(def);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const hints = (def.widgets ?? {}) as Record<string, WidgetHints | undefined>;
  const specs = Object.entries(def.params.shape).map(([name, schema]) =>
    specOf(name, schema as z.ZodType, properties[name] ?? {}, hints[name] ?? {}),
  );
  specCache.set(def, specs);
  return specs;
}

/** JSON Schema of the params as a caller writes them (defaults make fields optional). */
export function paramsJsonSchema(def: AnyNodeDefinition): JsonSchema {
  return z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function specOf(name: string, schema: z.ZodType, json: JsonSchema, hints: WidgetHints): ParamSpec {
  // Parsing "nothing" tells both whether the param may be absent and what its default is.
  const empty = schema.safeParse(undefined);
  const spec: ParamSpec = { name, kind: '*', optional: empty.success && empty.data === undefined, hints };
  if (empty.success && empty.data !== undefined) spec.default = empty.data;
  const options = comboOptions(json);
  if (options) return { ...spec, kind: 'COMBO', options };
  const type = json.type;
  if (type === 'integer' || type === 'number') {
    return { ...spec, kind: type === 'integer' ? 'INT' : 'FLOAT', min: numberOf(json.minimum), max: numberOf(json.maximum) };
  }
  if (type === 'string') return { ...spec, kind: 'STRING', minLength: numberOf(json.minLength), maxLength: numberOf(json.maxLength) };
  if (type === 'boolean') return { ...spec, kind: 'BOOLEAN' };
  return spec;
}

/** enum, a single const, or a union of consts (zod literal unions) are combos. */
function comboOptions(json: JsonSchema): unknown[] | undefined {
  if (Array.isArray(json.enum)) return json.enum as unknown[];
  if ('const' in json) return [json.const];
  const anyOf = json.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined;
  const consts = (anyOf as JsonSchema[]).map((branch) => comboOptions(branch));
  if (consts.some((c) => c === undefined)) return undefined;
  return consts.flatMap((c) => c ?? []);
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
