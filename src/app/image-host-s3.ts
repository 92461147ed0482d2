import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { sha256File } from '../nodes/content-hash.js';
import { readImageHeader } from '../nodes/image-header.js';
import { IMAGE_CONTENT_TYPES } from '../nodes/image-delivery.js';
import { isLoopbackHost } from './public-url.js';

/**
 * Local images hosted in object storage (--image-host s3://bucket/prefix): each file is uploaded
 * once, under its content hash, and providers get a presigned GET URL valid for the run. Works with
 * AWS S3 and S3-compatible stores (R2, MinIO…) through an endpoint override, path-style.
 *
 * Configuration comes from the environment only: the standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL or
 * REELGRAPH_S3_ENDPOINT for the endpoint. The SDK is loaded only when an image host is used.
 */

/** Presigned links last this long: longer than a run waits for a throttled or queued job to start. */
export const PRESIGN_SECONDS = 12 * 60 * 60;

export interface ImageHostLocation {
  bucket: string;
  /** Key prefix without leading or trailing slashes ('' for the bucket's root). */
  prefix: string;
}

/** Parses "s3://bucket/prefix"; throws a sentence naming the option when it is not one. */
export function parseImageHost(value: string): ImageHostLocation {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value.trim());
  if (!match) throw new Error(`--image-host ${JSON.stringify(value)} is not an s3://bucket/prefix location`);
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** The S3 endpoint override from the environment; https unless it is a loopback address (a test store). */
export function s3Endpoint(env: NodeJS.ProcessEnv): string | undefined {
  const endpoint = env.REELGRAPH_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (!endpoint) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`the S3 endpoint ${JSON.stringify(endpoint)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new Error(`the S3 endpoint ${endpoint} must be https: providers fetch images by https URL only (plain http is allowed only for loopback test stores)`);
  }
  return endpoint;
}

type S3 = typeof import('@aws-sdk/client-s3');
type Presigner = typeof import('@aws-sdk/s3-request-presigner');

export class S3ImageHost {
  readonly #location: ImageHostLocation;
  readonly #env: NodeJS.ProcessEnv;
  #client: Promise<{ sdk: S3; presigner: Presigner; client: InstanceType<S3['S3Client']> }> | undefined;
  /** Keys known to be in the bucket during this run: each file is checked and uploaded once. */
  readonly #uploaded = new Map<string, Promise<void>>();

  constructor(imageHost: string, env: NodeJS.ProcessEnv) {
    this.#location = parseImageHost(imageHost);
    this.#env = env;
    // Checked now, so a bad endpoint is a sentence before anything runs.
    s3Endpoint(env);
  }

  /** A presigned GET URL for the file, uploading it first if the bucket does not have it yet. */
  async url(path: string): Promise<string> {
    const header = await readImageHeader(path);
    const contentType = IMAGE_CONTENT_TYPES[header.format];
    if (!contentType) throw new Error(`cannot host ${path}: ${header.format} is not an image type providers fetch`);
    const sha256 = await sha256File(path);
    const ext = extname(path).toLowerCase() || `.${header.format}`;
    const key = `${this.#location.prefix ? `${this.#location.prefix}/` : ''}${sha256}${ext}`;
    const { sdk, presigner, client } = await this.#connect();
    let uploaded = this.#uploaded.get(key);
    if (!uploaded) {
      uploaded = this.#ensure(sdk, client, key, path, contentType);
      this.#uploaded.set(key, uploaded);
      uploaded.catch(() => this.#uploaded.delete(key));
    }
    await uploaded;
    return presigner.getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: this.#location.bucket, Key: key }), { expiresIn: PRESIGN_SECONDS });
  }

  close(): void {
    void this.#client?.then(({ client }) => client.destroy(), () => undefined);
  }

  async #ensure(sdk: S3, client: InstanceType<S3['S3Client']>, key: string, path: string, contentType: string): Promise<void> {
    const Bucket = this.#location.bucket;
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket, Key: key }));
      return;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw storageError(error, this.#location);
    }
    // In memory: hosted images are under the providers' 16 MB URL limit, and a buffer is signed and sent plainly
    // (a stream would go aws-chunked, which not every S3-compatible store understands).
    const body = await readFile(path);
    try {
      await client.send(new sdk.PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (error) {
      throw storageError(error, this.#location);
    }
  }

  #connect() {
    this.#client ??= (async () => {
      const [sdk, presigner] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
      const env = this.#env;
      const endpoint = s3Endpoint(env);
      const credentials =
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
          : undefined;
      const client = new sdk.S3Client({
        region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        // Checksums only where S3 requires them: R2, MinIO and others reject or mangle the newer defaults.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(credentials ? { credentials } : {}),
      });
      return { sdk, presigner, client };
    })();
    return this.#client;
  }
}

/** The store's refusal as one sentence, without the SDK's stack or any credential. */
function storageError(error: unknown, location: ImageHostLocation): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`the image host s3://${location.bucket}/${location.prefix} refused the upload (${name}: ${message}); check the bucket, AWS_* credentials and the endpoint`, { cause: error });
}
