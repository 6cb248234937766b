// git-http.mjs — a loopback smart-HTTP git server for tests: `git
// http-backend` (CGI) behind HTTP basic auth with one token as the password
// (any user name), as a forge's token auth works.
//
//   node tests/lib/git-http.mjs ROOT TOKEN READY-FILE
//
// Serves every repository under ROOT at http://127.0.0.1:PORT/<path>
// (fetch and push); writes {"url": "http://127.0.0.1:PORT"} to READY-FILE.
// A request without the token gets 401 and a WWW-Authenticate challenge.

import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync, renameSync } from 'node:fs';

const [root, token, readyFile] = process.argv.slice(2);
if (!root || !token || !readyFile) {
  process.stderr.write('usage: git-http.mjs ROOT TOKEN READY-FILE\n');
  process.exit(2);
}

function authorized(req) {
  const m = /^Basic (.+)$/.exec(req.headers.authorization || '');
  if (!m) return false;
  const creds = Buffer.from(m[1], 'base64').toString();
  return creds.slice(creds.indexOf(':') + 1) === token;
}

const server = http.createServer((req, res) => {
  if (!authorized(req)) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
    res.end('authentication required\n');
    return;
  }
  const url = new URL(req.url, 'http://git');
  const env = {
    PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', REMOTE_USER: 'agent',
    REQUEST_METHOD: req.method, PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] || '', REMOTE_ADDR: '127.0.0.1',
    ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: req.headers['git-protocol'] } : {}),
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
  };
  const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  cgi.stdout.on('data', (chunk) => {
    if (started) { res.write(chunk); return; }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    let status = 200;
    const headers = {};
    for (const line of head.slice(0, end).toString().split('\r\n')) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    started = true;
    res.write(head.slice(end + 4));
  });
  cgi.on('close', () => res.end());
});

server.listen(0, '127.0.0.1', () => {
  const ready = JSON.stringify({ url: `http://127.0.0.1:${server.address().port}`, pid: process.pid }) + '\n';
  writeFileSync(`${readyFile}.tmp`, ready);
  renameSync(`${readyFile}.tmp`, readyFile);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
