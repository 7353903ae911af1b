// `s3://bucket/prefix` → bucket and key prefix. Credentials never go in the URL.
import { ConfigError } from '../errors.js';
import { maskUrl } from './mask-url.js';

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const shown = maskUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ConfigError(`invalid repository url '${shown}'`, [], { cause: err, hint: 'use s3://bucket/prefix' });
  }
  if (parsed.protocol !== 's3:' || parsed.hostname === '') {
    throw new ConfigError(`invalid repository url '${shown}'`, [], { hint: 'use s3://bucket/prefix' });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ConfigError(`repository url '${shown}' must not carry credentials`, [], {
      hint: 'use the AWS credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role',
    });
  }
  if (parsed.search !== '' || parsed.hash !== '' || parsed.port !== '') {
    throw new ConfigError(`repository url '${shown}' takes no port, query or fragment`, [], {
      hint: 'put endpoint, region and the like in the s3 options of the config',
    });
  }
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  return { bucket: parsed.hostname, prefix };
}
