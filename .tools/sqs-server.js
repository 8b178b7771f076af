// Starts local-aws-sqs on 127.0.0.1 for the dev server and the Go tests.
// Usage: node sqs-server.js [port]   (or SQS_PORT=9324 node sqs-server.js)
// It exits on SIGTERM/SIGINT and when its stdin closes, so a parent that dies cannot leave it
// running: the parent holds the write end of a pipe on our stdin.
'use strict';
const { createSqsServer } = require('local-aws-sqs');

const port = Number(process.argv[2] || process.env.SQS_PORT || 9324);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`sqs-server: bad port ${process.argv[2] || process.env.SQS_PORT}`);
  process.exit(2);
}

createSqsServer({ port, hostname: '127.0.0.1', region: 'eu-north-1', emulateQueueCreationLifecycle: false })
  .then(() => console.log(`sqs-server: listening on http://127.0.0.1:${port}`))
  .catch((err) => { console.error(`sqs-server: ${err.message}`); process.exit(1); });

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (!process.stdin.isTTY) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
