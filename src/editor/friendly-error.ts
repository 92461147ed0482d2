/**
 * A run's error as one sentence a person can act on, with the full message kept as details.
 * The engine's messages are written for logs ("GET http://… failed after 6 attempts: connect
 * ECONNREFUSED …"); the editor shows the sentence on the node and in the status bar, and the
 * message behind a "Details" disclosure.
 */

export interface FriendlyError {
  sentence: string;
  details: string;
}

const MAX_SENTENCE = 180;

export function friendlyError(message: string): FriendlyError {
  const details = message.trim();
  const retried = /failed after (\d+) attempts?: (?:connect )?(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed)/i.exec(details);
  if (retried) {
    return { sentence: `The provider did not answer (tried ${retried[1]} times): check your connection, then Run again.`, details };
  }
  if (/jobs forget|unknown outcome|may (?:already )?have (?:been )?(?:created|accepted)/i.test(details)) {
    return {
      sentence: 'The provider may already have this job (its answer was lost): check the provider\'s dashboard before submitting again.',
      details,
    };
  }
  if (/no longer knows|not found.*task|task.*not found/i.test(details)) {
    return { sentence: 'The provider no longer knows this job: Run again to submit a new one.', details };
  }
  // Otherwise the message's first sentence, without the node prefix the status bar already implies.
  const withoutNode = details.replace(/^Node "[^"]*" \([^)]*\):\s*/, '');
  const first = /^(.*?[.!?])(\s|$)/.exec(withoutNode)?.[1] ?? withoutNode;
  return { sentence: first.length > MAX_SENTENCE ? `${first.slice(0, MAX_SENTENCE - 1)}…` : first, details };
}
