import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';
import { planRequest, serverJournal } from './estimate-route.js';
import { promptError, type PromptRouteContext } from './prompt-route.js';

/**
 * POST /reelgraph/jobs/submit-again `{prompt, node_id, job_key}`: the user checked the provider and decided that a
 * job whose create got no clear answer may be submitted again (it may pay twice). Records that decision the way
 * `reelgraph jobs forget` does, and only for the job the plan of this prompt names as unknown for that node, so the
 * route can never make a live job look forgotten. Nothing is queued: the editor runs the prompt after.
 */
export async function postSubmitAgain(request: IncomingMessage, response: ServerResponse, ctx: PromptRouteContext): Promise<void> {
  const answer = await planRequest(request, ctx);
  if ('status' in answer) return sendJson(response, answer.status === 200 ? 400 : answer.status, answer.body);
  const nodeId = typeof answer.body.node_id === 'string' ? answer.body.node_id : undefined;
  const given = typeof answer.body.job_key === 'string' ? answer.body.job_key : undefined;
  if (!nodeId) return sendJson(response, 400, promptError('invalid_request', 'node_id is required', ''));
  const job = answer.plan.existing.find((candidate) => candidate.nodeId === nodeId && candidate.status === 'unknown');
  // The plan moved on (decided in another tab, or the node's parameters changed): the user decided about another job.
  if (!job?.jobKey || (given !== undefined && given !== job.jobKey)) {
    return sendJson(response, 409, promptError('nothing_to_decide', `Node ${nodeId} has no job with an unknown outcome any more`, 'Nothing was changed; look at the cost badge again.'));
  }
  await serverJournal(ctx).forget(job.jobKey);
  sendJson(response, 200, { node_id: nodeId, job_key: job.jobKey, forgotten: true });
}
