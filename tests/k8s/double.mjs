#!/usr/bin/env node
// double.mjs — a Kubernetes API server double for fracta's tests: speaks the
// real API's wire protocol for what fracta-spawn-k8s and kubectl use, over
// HTTPS (and optionally plain HTTP), with the cluster's controllers simulated
// and driven by the test through /_double/ (see tests/k8s/README.md).
//
//   node tests/k8s/double.mjs --tls-cert server.crt --tls-key server.key
//        [--listen 127.0.0.1:0] [--http-listen 127.0.0.1:0]
//        [--client-ca ca.crt] [--token TOKEN[,USER[,UID[,GROUPS]]]]… [--token-file FILE]
//        [--anonymous] [--control-token T] [--deny VERB:RESOURCE[:NS[:USER]]]…
//        [--namespace NS]… [--auto-run] [--auto-run-ms N] [--bookmark-interval-ms N]
//        [--history N] [--gc-delay-ms N] [--pod-termination-ms N]
//        [--ready-fd N] [--ready-file FILE] [--run-pods DIR --pod-bin DIR]
//
// When listening, writes one JSON line {"url","http_url","pid"} to the ready
// fd / file (the file appears atomically), so tests wait on it, not on sleeps.

import https from 'node:https';
import http from 'node:http';
import { readFileSync, writeFileSync, renameSync, createWriteStream } from 'node:fs';
import { Store } from './store.mjs';
import { Registry } from './registry.mjs';
import { Cluster } from './controllers.mjs';
import { Kubelet } from './kubelet.mjs';
import { Api } from './api.mjs';
import { Control } from './control.mjs';
import { Auth, Deny, Faults } from './policy.mjs';
import { findDef } from './resources.mjs';

const die = (msg) => { process.stderr.write(`k8s-double: error: ${msg}\n`); process.exit(2); };

function parseArgs(argv) {
  const a = { listen: '127.0.0.1:0', tokens: [], deny: [], namespaces: [], autoRun: false, autoRunMs: 0,
    bookmarkIntervalMs: 1000, history: 1000, gcDelayMs: 0, podTerminationMs: 0 };
  const multi = { '--token': 'tokens', '--deny': 'deny', '--namespace': 'namespaces' };
  const single = { '--listen': 'listen', '--http-listen': 'httpListen', '--tls-cert': 'tlsCert', '--tls-key': 'tlsKey',
    '--client-ca': 'clientCA', '--token-file': 'tokenFile', '--control-token': 'controlToken', '--ready-fd': 'readyFd',
    '--ready-file': 'readyFile', '--auto-run-ms': 'autoRunMs', '--bookmark-interval-ms': 'bookmarkIntervalMs',
    '--history': 'history', '--gc-delay-ms': 'gcDelayMs', '--pod-termination-ms': 'podTerminationMs',
    '--run-pods': 'runPods', '--pod-bin': 'podBin' };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--anonymous') a.anonymous = true;
    else if (f === '--auto-run') a.autoRun = true;
    else if (f === '--no-https') a.noHttps = true;
    else if (multi[f] || single[f]) {
      if (i + 1 >= argv.length) die(`${f} needs a value`);
      const v = argv[++i];
      if (multi[f]) a[multi[f]].push(v); else a[single[f]] = v;
    } else die(`unknown argument: ${f}`);
  }
  for (const k of ['autoRunMs', 'bookmarkIntervalMs', 'history', 'gcDelayMs', 'podTerminationMs']) a[k] = Number(a[k]);
  if (!a.noHttps && (!a.tlsCert || !a.tlsKey)) die('--tls-cert and --tls-key are required (or --no-https with --http-listen)');
  if (a.noHttps && !a.httpListen) die('--no-https needs --http-listen');
  if (!a.runPods !== !a.podBin) die('--run-pods and --pod-bin go together');
  if (a.runPods && a.autoRun) die('--run-pods runs pods itself: no --auto-run');
  return a;
}

const hostPort = (s) => {
  const i = s.lastIndexOf(':');
  if (i < 0) die(`bad listen address ${s} (want HOST:PORT)`);
  return [s.slice(0, i), Number(s.slice(i + 1))];
};

class Double {
  constructor(args) {
    this.args = args;
    this.opts = { autoRun: args.autoRun, autoRunMs: args.autoRunMs, bookmarkIntervalMs: args.bookmarkIntervalMs,
      gcDelayMs: args.gcDelayMs, podTerminationMs: args.podTerminationMs, controlToken: args.controlToken };
    this.store = new Store({ historySize: args.history });
    this.registry = new Registry(this.store, this.opts);
    this.cluster = new Cluster(this.store, this.registry, this.opts);
    if (args.runPods) this.opts.kubelet = new Kubelet(this.cluster, this.registry, this.store, { root: args.runPods, bin: args.podBin });
    this.auth = new Auth({ tokens: args.tokens, tokenFile: args.tokenFile, clientCA: !!args.clientCA, anonymous: !!args.anonymous });
    this.deny = new Deny();
    this.deny.rules = args.deny.map(Deny.parse);
    this.faults = new Faults();
    this.api = new Api({ store: this.store, registry: this.registry, cluster: this.cluster, auth: this.auth,
      deny: this.deny, faults: this.faults, opts: this.opts, version: VERSION });
    this.control = new Control(this);
    this.servers = {}; // name -> {server, host, port, sockets}
    this.seed();
  }

  seed() {
    const ns = findDef('', 'v1', 'namespaces');
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...this.args.namespaces]) {
      if (!this.store.get(ns, '', n)) this.registry.create(ns, '', { metadata: { name: n } });
    }
    // the service-account controller would have made these by the time anyone looks
    for (const n of this.store.list(ns)) this.cluster.ensureDefaultSA(n.metadata.name);
  }

  reset() {
    this.store.reset();
    this.api.requests = [];
    this.api.proxies.clear();
    this.api.dropWatches('close');
    this.faults.list = [];
    this.deny.rules = this.args.deny.map(Deny.parse);
    this.cluster.logs.clear();
    for (const uid of [...this.cluster.timers.keys()]) this.cluster.clearTimers(uid);
    Object.assign(this.opts, { autoRun: this.args.autoRun, autoRunMs: this.args.autoRunMs,
      bookmarkIntervalMs: this.args.bookmarkIntervalMs, gcDelayMs: this.args.gcDelayMs, podTerminationMs: this.args.podTerminationMs });
    this.seed();
  }

  makeServer(kind) {
    const handler = (req, res) => {
      if (req.url.startsWith('/_double/')) this.control.handle(req, res, new URL(req.url, 'http://double'));
      else this.api.handle(req, res, kind);
    };
    let server;
    if (kind === 'https') {
      const a = this.args;
      server = https.createServer({ cert: readFileSync(a.tlsCert), key: readFileSync(a.tlsKey),
        ...(a.clientCA ? { ca: readFileSync(a.clientCA), requestCert: true, rejectUnauthorized: false } : {}) }, handler);
    } else server = http.createServer(handler);
    // long watches and log follows: no request timeout; idle keep-alive
    // connections stay open like the real server's
    server.requestTimeout = 0;
    server.keepAliveTimeout = 0;
    server.headersTimeout = 60000;
    const sockets = new Set();
    server.on(kind === 'https' ? 'secureConnection' : 'connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    server.on('tlsClientError', () => {});
    // An upgrade request (a pod's attach through pods/proxy) goes through
    // the same handler, with a response on its socket for the refusals; the
    // proxy then takes the socket over (Api.proxyUpgrade).
    server.on('upgrade', (req, socket, head) => {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket);
      res.on('finish', () => { if (!res.upgraded) socket.end(); });
      req.upgradeHead = head;
      handler(req, res);
    });
    return { server, sockets };
  }

  listen(kind, host, port) {
    const s = this.makeServer(kind);
    return new Promise((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(port, host, () => {
        s.host = host;
        s.port = s.server.address().port;
        this.servers[kind] = s;
        resolve(s);
      });
    });
  }

  async stopListening(which) {
    const names = which === 'all' ? Object.keys(this.servers) : [which];
    const stopped = [];
    for (const n of names) {
      const s = this.servers[n];
      if (!s || !s.server.listening) continue;
      s.server.close();
      for (const sock of s.sockets) sock.destroy();
      stopped.push(n);
    }
    return stopped;
  }

  async startListening(which) {
    const names = which === 'all' ? Object.keys(this.servers) : [which];
    const started = [];
    for (const n of names) {
      const s = this.servers[n];
      if (!s || s.server.listening) continue;
      await this.listen(n, s.host, s.port);
      started.push(n);
    }
    return started;
  }

  dropConnections() {
    let n = 0;
    for (const s of Object.values(this.servers)) for (const sock of s.sockets) { sock.destroy(); n++; }
    return n;
  }

  url(kind) {
    const s = this.servers[kind];
    return s ? `${kind}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}` : null;
  }
}

const VERSION = { major: '1', minor: '32', emulationMajor: '1', emulationMinor: '32', minCompatibilityMajor: '1',
  minCompatibilityMinor: '31', gitVersion: 'v1.32.4', gitCommit: '59526cd4867447956156ae3a602fcbac5c1e8b2c',
  gitTreeState: 'clean', buildDate: '2025-04-22T16:02:27Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/amd64' };

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const d = new Double(args);
  try {
    if (!args.noHttps) await d.listen('https', ...hostPort(args.listen));
    if (args.httpListen) await d.listen('http', ...hostPort(args.httpListen));
  } catch (e) { die(`listen: ${e.message}`); }
  const ready = JSON.stringify({ url: d.url('https') || d.url('http'), http_url: d.url('http'), pid: process.pid }) + '\n';
  if (args.readyFile) {
    writeFileSync(`${args.readyFile}.tmp`, ready);
    renameSync(`${args.readyFile}.tmp`, args.readyFile);
  }
  if (args.readyFd) {
    const w = createWriteStream(null, { fd: Number(args.readyFd) });
    w.end(ready);
  }
  if (!args.readyFile && !args.readyFd) process.stdout.write(ready);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

main();
