import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A real S3-compatible server (s3rver) on loopback, with one bucket; the SDK talks to it over HTTP as it would to S3. */

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The environment a reelgraph process needs to use it (path-style through the endpoint override). */
  env: Record<string, string>;
  /** The object keys under `prefix`, read through the S3 API. */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'reelgraph-images'): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'reelgraph-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      REELGRAPH_S3_ENDPOINT: endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    keys: async (prefix) => {
      const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      try {
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        return (listed.Contents ?? []).map((object) => object.Key!);
      } finally {
        client.destroy();
      }
    },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
