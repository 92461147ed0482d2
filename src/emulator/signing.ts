import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring video URLs, like the CloudFront/S3 links real providers hand out:
 * `/_files/{jobId}.mp4?exp=<ms>&sig=<hmac>`. After `exp` the file answers 403 with an XML body.
 */
export class UrlSigner {
  private readonly secret = randomBytes(32);

  sign(origin: string, jobId: string, expiresAt: number): string {
    const exp = Math.floor(expiresAt);
    return `${origin}/_files/${jobId}.mp4?exp=${exp}&sig=${this.signature(jobId, exp)}`;
  }

  /** 'ok', or why the URL is refused. */
  verify(jobId: string, exp: string | null, sig: string | null, now: number): 'ok' | 'expired' | 'bad-signature' {
    if (!exp || !sig || !/^\d+$/.test(exp)) return 'bad-signature';
    const expected = Buffer.from(this.signature(jobId, Number(exp)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    return now < Number(exp) ? 'ok' : 'expired';
  }

  private signature(jobId: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`${jobId}:${exp}`).digest('hex');
  }
}

/** The S3-style XML body a signed-URL host sends when it refuses a link. */
export function accessDeniedXml(reason: 'expired' | 'bad-signature'): string {
  const [code, message] = reason === 'expired' ? ['AccessDenied', 'Request has expired'] : ['SignatureDoesNotMatch', 'The request signature does not match'];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
}
