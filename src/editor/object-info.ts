/**
 * Reading ComfyUI's /object_info entries: which inputs are sockets, which are widgets,
 * and the widget options. Both `[[...options], {}]` and V3's `["COMBO", {options}]` combos are read.
 */

export type InputSpec = [unknown, Record<string, unknown>?];

export interface ObjectInfoEntry {
  name: string;
  display_name?: string;
  description?: string;
  category?: string;
  input: { required?: Record<string, InputSpec>; optional?: Record<string, InputSpec> };
  input_order?: { required?: string[]; optional?: string[] };
  output: string[];
  output_name?: string[];
  output_node?: boolean;
  /** Ours: the node definition's version, recorded in saved workflows. */
  version?: number;
}

export type ObjectInfo = Record<string, ObjectInfoEntry>;

export type WidgetSpec =
  | { kind: 'combo'; name: string; options: unknown[]; default: unknown; opts: Record<string, unknown> }
  | { kind: 'number'; name: string; integer: boolean; default: number; opts: Record<string, unknown> }
  | { kind: 'text'; name: string; default: string; multiline: boolean; opts: Record<string, unknown> }
  | { kind: 'toggle'; name: string; default: boolean; opts: Record<string, unknown> };

export interface SocketSpec {
  name: string;
  type: string;
  optional: boolean;
}

/** Widget types ComfyUI knows; anything else (IMAGE, VIDEO, TASK) is a socket. */
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** Inputs in ComfyUI's order: required then optional, as input_order says when present. */
export function orderedInputs(entry: ObjectInfoEntry): { name: string; spec: InputSpec; optional: boolean }[] {
  const result: { name: string; spec: InputSpec; optional: boolean }[] = [];
  for (const group of ['required', 'optional'] as const) {
    const specs = entry.input[group] ?? {};
    const order = entry.input_order?.[group] ?? Object.keys(specs);
    for (const name of order) {
      const spec = specs[name];
      if (spec) result.push({ name, spec, optional: group === 'optional' });
    }
  }
  return result;
}

export function isWidgetInput(spec: InputSpec): boolean {
  return Array.isArray(spec[0]) || (typeof spec[0] === 'string' && WIDGET_TYPES.has(spec[0]));
}

export function socketsOf(entry: ObjectInfoEntry): SocketSpec[] {
  return orderedInputs(entry)
    .filter(({ spec }) => !isWidgetInput(spec))
    .map(({ name, spec, optional }) => ({ name, type: String(spec[0]), optional }));
}

export function widgetsOf(entry: ObjectInfoEntry): WidgetSpec[] {
  return orderedInputs(entry)
    .filter(({ spec }) => isWidgetInput(spec))
    .map(({ name, spec }) => widgetSpec(name, spec));
}

function widgetSpec(name: string, spec: InputSpec): WidgetSpec {
  const opts = spec[1] ?? {};
  const type = spec[0];
  if (Array.isArray(type) || type === 'COMBO') {
    const options = Array.isArray(type) ? type : Array.isArray(opts.options) ? opts.options : [];
    return { kind: 'combo', name, options, default: opts.default ?? options[0], opts };
  }
  if (type === 'INT' || type === 'FLOAT') {
    return { kind: 'number', name, integer: type === 'INT', default: typeof opts.default === 'number' ? opts.default : 0, opts };
  }
  if (type === 'BOOLEAN') return { kind: 'toggle', name, default: opts.default === true, opts };
  return { kind: 'text', name, default: typeof opts.default === 'string' ? opts.default : '', multiline: opts.multiline === true, opts };
}
