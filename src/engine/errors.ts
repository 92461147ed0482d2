/**
 * The error taxonomy (n8n's user/operational split, the Runway SDK's status classes).
 * Every message is one sentence that names the place: node id, type, field and limit.
 * Messages never contain provider keys or Authorization headers.
 */

/** One problem found before execution, in ComfyUI's node_errors shape. */
export interface Issue {
  /** ComfyUI error type, e.g. required_input_missing, value_bigger_than_max. */
  type: string;
  /** Node id, or undefined for prompt-level problems (no outputs, unknown types). */
  nodeId?: string;
  nodeType?: string;
  /** Where the node is when its id alone does not say (inside a subgraph): `subgraph "Animate" › node 7`. */
  where?: string;
  /** The input or param the problem is about. */
  field?: string;
  /** Short message, e.g. "Value bigger than max". */
  message: string;
  /** The readable details: value and limit. */
  details: string;
  extra_info?: Record<string, unknown>;
}

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  /** Whether doing the same thing again may succeed (n8n's operational errors). */
  retryable = false;
  /** Process exit code the CLI uses for this error. */
  exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The workflow file could not be read as a workflow. Exit 2. */
export class WorkflowParseError extends RuntimeError {
  override name = 'WorkflowParseError';
  override exitCode = 2;
}

/** Validation found problems; nothing was run and nothing was spent. Exit 2. */
export class WorkflowValidationError extends RuntimeError {
  override name = 'WorkflowValidationError';
  override exitCode = 2;
  constructor(readonly issues: Issue[]) {
    super(issues.length === 1 ? formatIssue(issues[0]!) : `${issues.length} problems found:\n${issues.map(formatIssue).join('\n')}`);
  }
}

/** Bad input discovered while a node runs (an image that is not what it claimed). Exit 2. */
export class InputError extends RuntimeError {
  override name = 'InputError';
  override exitCode = 2;
}

/** Anything a node's run() throws, wrapped with where it happened. */
export class NodeExecutionError extends RuntimeError {
  override name = 'NodeExecutionError';
  /** `where`: the node's place inside subgraphs (GraphNode.where), named instead of its flattened execution id. */
  constructor(readonly nodeId: string, readonly nodeType: string, cause: unknown, where?: string) {
    super(`${nodeLabel(nodeId, nodeType, where)}: ${messageOf(cause)}`, { cause });
    if (cause instanceof RuntimeError) this.exitCode = cause.exitCode;
  }
}

/**
 * A provider answered with an error. Whether it may be retried is decided by the provider layer
 * (src/http/retry.ts holds the table, from each provider's documents) and passed in here.
 */
export class ProviderHttpError extends RuntimeError {
  override name = 'ProviderHttpError';
  constructor(readonly provider: string, readonly status: number, message: string, readonly body?: unknown, retryable = false) {
    super(message);
    this.retryable = retryable;
  }
}

export class ProviderAuthError extends ProviderHttpError {
  override name = 'ProviderAuthError';
}

export class ProviderRateLimitError extends ProviderHttpError {
  override name = 'ProviderRateLimitError';
}

/** The provider ran the job and reports that it failed. */
export class ProviderTaskFailedError extends RuntimeError {
  override name = 'ProviderTaskFailedError';
  constructor(readonly provider: string, readonly taskId: string, readonly reason: string, readonly failureCode?: string) {
    super(`${provider} task ${taskId} failed: ${reason}${failureCode ? ` (${failureCode})` : ''}`);
  }
}

/** A create request whose outcome is unknown: the job may exist and may be billed. Never resubmit blindly. */
export class SubmitOutcomeUnknownError extends RuntimeError {
  override name = 'SubmitOutcomeUnknownError';
}

export class ProviderTimeoutError extends RuntimeError {
  override name = 'ProviderTimeoutError';
}

/** The run was cancelled (Ctrl-C, /interrupt). Exit 130; reported as interrupted, not error. */
export class CancelledError extends RuntimeError {
  override name = 'CancelledError';
  override exitCode = 130;
  constructor(message = 'Interrupted') {
    super(message);
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  if (error instanceof NodeExecutionError) return isCancellation(error.cause);
  return error instanceof Error && error.name === 'AbortError';
}

/** One readable line: `Node "3" (RunwayI2V) promptText: Value bigger than max: 600 characters, limit 512`. */
export function formatIssue(issue: Issue): string {
  const where = issue.where !== undefined || issue.nodeId !== undefined ? nodeLabel(issue.nodeId ?? '', issue.nodeType, issue.where) : 'Workflow';
  const field = issue.field ? ` ${issue.field}` : '';
  return `${where}${field}: ${issue.message}${issue.details ? `: ${issue.details}` : ''}`;
}

/**
 * How every message names a node: `Node "3" (RunwayI2V)`, or inside subgraphs its path,
 * `subgraph "Animate" › node 7 (Poll)`, never the flattened execution id ("10:7") the user never saw.
 */
export function nodeLabel(nodeId: string, nodeType: string | undefined, where?: string): string {
  const type = nodeType ? ` (${nodeType})` : '';
  return where !== undefined ? `${where}${type}` : `Node "${nodeId}"${type}`;
}
