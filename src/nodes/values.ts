import { z } from 'zod';

/**
 * The values that travel along links. They are plain JSON so the persistent cache
 * can store them and the server can show them; large payloads (image bytes, video
 * bytes) stay in files or at URLs and are referenced.
 */

export const ImageFormatSchema = z.enum(['jpeg', 'png', 'webp', 'gif', 'avif', 'bmp', 'tiff', 'svg', 'unknown']);
export type ImageFormat = z.infer<typeof ImageFormatSchema>;

export const ImageRefSchema = z.object({
  /** A local file (absolute path, already confined to the input folder) or a remote URL. */
  source: z.enum(['file', 'url']),
  path: z.string().optional(),
  url: z.string().optional(),
  /** The path as the workflow wrote it, for messages. */
  name: z.string(),
  format: ImageFormatSchema,
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  /** sha256 of the file content; absent for URLs that were not downloaded. */
  sha256: z.string().optional(),
  /** LoadImage's fit param: 'off' refuses an image that does not fit instead of sending a fitted copy. */
  fit: z.enum(['auto', 'off']).optional(),
  /** Whether a ValidateImage node approved it, and for which provider/model. */
  validatedFor: z.object({ provider: z.string(), model: z.string() }).optional(),
});
export type ImageRef = z.infer<typeof ImageRefSchema>;

export const TaskHandleSchema = z.object({
  provider: z.enum(['runcomfy', 'cometapi', 'runway']),
  model: z.enum(['gen4_turbo', 'gen3a_turbo']),
  taskId: z.string(),
  /** The base URL the task was created at, so a re-attach asks the same server. */
  baseUrl: z.string(),
  submittedAt: z.number(),
  duration: z.number(),
  ratio: z.string(),
  /** How the image was sent, and the fitted copy's one-line account, for the MP4's provenance. */
  image: z.object({ route: z.string(), fit: z.string().optional() }).optional(),
});
export type TaskHandle = z.infer<typeof TaskHandleSchema>;

export const VideoRefSchema = z.object({
  url: z.string(),
  task: TaskHandleSchema,
  queuedMs: z.number(),
  runningMs: z.number(),
  /** Time held back by the account's concurrency limit (Runway THROTTLED), apart from queued. */
  throttledMs: z.number().optional(),
});
export type VideoRef = z.infer<typeof VideoRefSchema>;

export const SavedVideoSchema = z.object({
  filename: z.string(),
  subfolder: z.string(),
  type: z.literal('output'),
  path: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
});
export type SavedVideo = z.infer<typeof SavedVideoSchema>;
