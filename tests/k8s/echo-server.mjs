#!/usr/bin/env node
// echo-server.mjs — a stand-in for an agent pod's supervisor behind
// pods/proxy: answers every request with what it received (method, url,
// headers, body) as JSON, so tests can see exactly what the double forwarded.
//
//   node echo-server.mjs PORT-FILE            TCP on 127.0.0.1, port written to PORT-FILE
//   node echo-server.mjs --unix SOCKET READY  a Unix socket; READY written when listening
import http from 'node:http';
import { writeFileSync, renameSync, rmSync } from 'node:fs';

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers,
      body: Buffer.concat(chunks).toString() });
    res.writeHead(req.url.startsWith('/teapot') ? 418 : 200, { 'Content-Type': 'application/json', 'X-Echo': 'yes' });
    res.end(body);
  });
});
const atomic = (file, text) => { writeFileSync(`${file}.tmp`, text); renameSync(`${file}.tmp`, file); };
if (process.argv[2] === '--unix') {
  rmSync(process.argv[3], { force: true });
  server.listen(process.argv[3], () => atomic(process.argv[4], 'ready\n'));
} else {
  server.listen(0, '127.0.0.1', () => atomic(process.argv[2], `${server.address().port}\n`));
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
