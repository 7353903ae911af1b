// Runs s3rver in its own process (started by s3-server.ts with --openssl-legacy-provider: s3rver's
// ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in the legacy provider).
// argv: <directory> <bucket>. Prints one JSON line {port} on stdout once listening.
'use strict';
const S3rver = require('s3rver');

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err.stack || err}\n`);
    process.exit(1);
  },
);
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
