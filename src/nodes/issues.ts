import type { Issue } from '../engine/errors.js';

/** Builds one validation issue; `details` carries the value and the limit. */
export function nodeIssue(
  where: { nodeId: string; nodeType: string },
  field: string | undefined,
  type: string,
  message: string,
  details: string,
): Issue {
  const issue: Issue = { type, nodeId: where.nodeId, nodeType: where.nodeType, message, details };
  if (field !== undefined) issue.field = field;
  return issue;
}

/** Short quoted form of a user value for messages (long prompts are cut). */
export function quote(value: string, max = 60): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
