import type { AnyNodeDefinition } from '../engine/define-node.js';
import { paramSpecs, paramsJsonSchema, type ParamSpec } from '../engine/params.js';
import type { NodeRegistry } from '../engine/registry.js';

/**
 * Node definitions in the shape of ComfyUI's GET /object_info, so ComfyUI clients and
 * our litegraph editor build slots and widgets from one source of truth.
 */

/** `[TYPE, options]`; a combo's TYPE is its list of options. */
export type InputSpec = [string | unknown[], Record<string, unknown>] | [string];

export interface ObjectInfoEntry {
  input: { required: Record<string, InputSpec>; optional: Record<string, InputSpec> };
  input_order: { required: string[]; optional: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  name: string;
  display_name: string;
  description: string;
  category: string;
  output_node: boolean;
  api_node: boolean;
  python_module: string;
  /** Ours: JSON Schema of the params, and the definition's version. */
  params_schema: Record<string, unknown>;
  version: number;
}

export function objectInfo(registry: NodeRegistry): Record<string, ObjectInfoEntry> {
  return Object.fromEntries(registry.list().map((def) => [def.type, entryOf(def)]));
}

function entryOf(def: AnyNodeDefinition): ObjectInfoEntry {
  const required: Record<string, InputSpec> = {};
  const optional: Record<string, InputSpec> = {};
  const order = { required: [] as string[], optional: [] as string[] };
  // Sockets first, then params in widget order: the order ComfyUI's frontend lays out.
  for (const [name, socket] of Object.entries(def.inputs)) {
    const group = socket.optional ? 'optional' : 'required';
    (socket.optional ? optional : required)[name] = socket.tooltip ? [socket.type, { tooltip: socket.tooltip }] : [socket.type];
    order[group].push(name);
  }
  for (const spec of paramSpecs(def)) {
    const group = spec.optional ? 'optional' : 'required';
    (spec.optional ? optional : required)[spec.name] = widgetSpec(spec);
    order[group].push(spec.name);
  }
  return {
    input: { required, optional },
    input_order: order,
    output: def.outputs.map((output) => output.type),
    output_is_list: def.outputs.map(() => false),
    output_name: def.outputs.map((output) => output.name),
    name: def.type,
    display_name: def.displayName,
    description: def.description,
    category: def.category,
    output_node: def.outputNode === true,
    api_node: def.category.toLowerCase().startsWith('api node'),
    python_module: 'reelgraph',
    params_schema: paramsJsonSchema(def),
    version: def.version,
  };
}

/** ComfyUI's widget mapping: STRING/INT/FLOAT/BOOLEAN with options, a combo as its list. */
function widgetSpec(spec: ParamSpec): InputSpec {
  const options: Record<string, unknown> = {};
  if (spec.default !== undefined) options.default = spec.default;
  if (spec.hints.tooltip) options.tooltip = spec.hints.tooltip;
  switch (spec.kind) {
    case 'COMBO':
      return [spec.options ?? [], options];
    case 'INT':
    case 'FLOAT':
      if (spec.min !== undefined) options.min = spec.min;
      if (spec.max !== undefined) options.max = spec.max;
      if (spec.kind === 'INT') options.step = 1;
      if (spec.hints.controlAfterGenerate) options.control_after_generate = true;
      return [spec.kind, options];
    case 'STRING':
      options.multiline = spec.hints.multiline === true;
      if (spec.hints.imageUpload) options.image_upload = true;
      return ['STRING', options];
    case 'BOOLEAN':
      return ['BOOLEAN', options];
    default:
      return ['*', options];
  }
}
