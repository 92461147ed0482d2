import { z } from 'zod';

/**
 * ComfyUI's file formats, loosely: every object keeps unknown keys (as the frontend's
 * own workflowSchema.ts does with .passthrough()), so a re-save loses nothing.
 * See docs/comfyui.md §3.
 */

export const NodeIdSchema = z.union([z.number(), z.string()]);

export const UiInputSchema = z.looseObject({
  name: z.string(),
  type: z.unknown().optional(),
  link: z.number().nullable().optional(),
});

export const UiOutputSchema = z.looseObject({
  name: z.string().optional(),
  type: z.unknown().optional(),
  links: z.array(z.number()).nullable().optional(),
});

export const UiNodeSchema = z.looseObject({
  id: NodeIdSchema,
  type: z.string(),
  mode: z.number().optional(),
  title: z.string().optional(),
  inputs: z.array(UiInputSchema).optional(),
  outputs: z.array(UiOutputSchema).optional(),
  widgets_values: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  version: z.number().optional(),
});
export type UiNode = z.infer<typeof UiNodeSchema>;

/** v0.4: `[id, origin_id, origin_slot, target_id, target_slot, type]`. */
export const LinkTupleSchema = z.tuple([z.number(), NodeIdSchema, z.number(), NodeIdSchema, z.number()]).rest(z.unknown());

/** v1: link objects. */
export const LinkObjectSchema = z.looseObject({
  id: z.number(),
  origin_id: NodeIdSchema,
  origin_slot: z.number(),
  target_id: NodeIdSchema,
  target_slot: z.number(),
  type: z.unknown().optional(),
});

export const UiWorkflow04Schema = z.looseObject({
  version: z.number().optional(),
  nodes: z.array(UiNodeSchema),
  // Older files sometimes hold null for deleted links; some tools write link objects even in 0.4.
  links: z.array(z.union([LinkTupleSchema, LinkObjectSchema]).nullable()).optional(),
});

export const UiWorkflow1Schema = z.looseObject({
  version: z.literal(1),
  state: z.looseObject({}).optional(),
  nodes: z.array(UiNodeSchema),
  links: z.array(LinkObjectSchema).optional(),
});

export const ApiNodeSchema = z.looseObject({
  class_type: z.string(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  _meta: z.looseObject({ title: z.string().optional(), version: z.number().optional() }).optional(),
});

export const ApiPromptSchema = z.record(z.string(), ApiNodeSchema);

/**
 * True only for documents ApiPromptSchema accepts, checked in place: the schema copies every node and input
 * (a third of a second at 100k nodes), so a big prompt that is well formed skips it. On false, run the schema
 * for its message. Stricter than the schema where that is simpler (plain objects only), never looser.
 */
export function fitsApiPromptSchema(doc: unknown): doc is ApiPrompt {
  if (!isPlainRecord(doc)) return false;
  for (const id in doc) {
    const node = (doc as Record<string, unknown>)[id];
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return false;
    const { class_type, inputs, _meta } = node as Record<string, unknown>;
    if (typeof class_type !== 'string' || (inputs !== undefined && !isPlainRecord(inputs))) return false;
    if (_meta === undefined) continue;
    if (typeof _meta !== 'object' || _meta === null || Array.isArray(_meta)) return false;
    const { title, version } = _meta as Record<string, unknown>;
    if ((title !== undefined && typeof title !== 'string') || (version !== undefined && !Number.isFinite(version))) return false;
  }
  return true;
}

/** An object literal or JSON object (prototype Object.prototype or null), with no symbol keys. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(value).length === 0;
}

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string; version?: number };
}

export type ApiPrompt = Record<string, ApiNode>;

export { isApiLink, type ApiLink, type UiLink } from './links.js';
