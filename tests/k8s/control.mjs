// control.mjs — the test's side door into the double, under /_double/ (a
// prefix no Kubernetes route uses; exempt from Kubernetes auth, guarded by
// --control-token when given). It plays the kubelet (pod running, exited,
// waiting, unschedulable, log lines), registers pods/proxy targets, injects
// faults, drops watches and connections, stops and restarts listening, and
// hands out the request log. All bodies are JSON; see tests/k8s/README.md.

import { ApiError, notFound } from './util.mjs';
import { defByKind, findDef } from './resources.mjs';
import { sendJSON, sendError, readBody } from './api.mjs';
import { Deny } from './policy.mjs';

const POD = defByKind('Pod');

export class Control {
  constructor(double) {
    this.d = double; // {api, store, registry, cluster, auth, deny, faults, opts, servers, reset()}
  }

  async handle(req, res, url) {
    try {
      const tok = this.d.opts.controlToken;
      if (tok && req.headers.authorization !== `Bearer ${tok}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const buf = await readBody(req);
      let body = {};
      if (buf.length) {
        try { body = JSON.parse(buf.toString()); } catch (e) { throw new ApiError(400, 'BadRequest', `control: bad JSON: ${e.message}`); }
      }
      const out = await this.route(req.method, url.pathname.slice('/_double'.length), body, url.searchParams, res);
      if (out === undefined) return;
      if (typeof out === 'string') {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        return res.end(out);
      }
      return sendJSON(res, 200, out);
    } catch (e) {
      if (!res.headersSent) sendError(res, e);
    }
  }

  pod(ns, name) {
    const p = this.d.store.get(POD, ns, name);
    if (!p) throw notFound(POD, name);
    return p;
  }

  async route(method, path, body, q) {
    const d = this.d;
    const c = d.cluster;
    let m;
    const is = (mm, re) => method === mm && (m = re.exec(path));
    if (is('GET', /^\/health$/)) return { ok: true };
    if (is('GET', /^\/requests$/)) {
      const since = Number(q.get('since') || 0);
      return d.api.requests.filter((r) => r.seq > since).map((r) => JSON.stringify(r) + '\n').join('');
    }
    if (is('DELETE', /^\/requests$/)) { d.api.requests = []; return { ok: true }; }
    if (is('POST', /^\/reset$/)) { d.reset(); return { ok: true }; }
    if (is('POST', /^\/config$/)) {
      for (const k of ['autoRun', 'autoRunMs', 'bookmarkIntervalMs', 'gcDelayMs', 'podTerminationMs']) {
        if (body[k] !== undefined) d.opts[k] = body[k];
      }
      if (body.historySize !== undefined) d.store.historySize = body.historySize;
      return { ok: true, config: d.opts };
    }
    if (is('GET', /^\/faults$/)) return d.faults.describe();
    if (is('POST', /^\/faults$/)) { for (const f of Array.isArray(body) ? body : [body]) d.faults.add(f); return { ok: true }; }
    if (is('DELETE', /^\/faults$/)) { d.faults.list = []; return { ok: true }; }
    if (is('POST', /^\/deny$/)) {
      d.deny.rules.push(typeof body.rule === 'string' ? Deny.parse(body.rule) : body);
      return { ok: true };
    }
    if (is('DELETE', /^\/deny$/)) { d.deny.rules = []; return { ok: true }; }
    if (is('POST', /^\/tokens$/)) { d.auth.tokens = (body.tokens || []).map((t) => (typeof t === 'string' ? { token: t, user: 'token-user', groups: [] } : t)); return { ok: true }; }
    if (is('GET', /^\/watches$/)) return d.api.openWatches();
    if (is('POST', /^\/watches\/drop$/)) return { dropped: d.api.dropWatches(body.mode || 'close') };
    if (is('POST', /^\/connections\/drop$/)) return { dropped: d.dropConnections() };
    if (is('POST', /^\/compact$/)) { d.store.compact(); return { ok: true, resourceVersion: d.store.currentRV() }; }
    if (is('POST', /^\/stop$/)) return { stopped: await d.stopListening(body.listener || 'https') };
    if (is('POST', /^\/start$/)) return { started: await d.startListening(body.listener || 'https') };
    if (is('GET', /^\/objects\/([a-z]+)(?:\/([^/]+))?$/)) {
      const def = findDef('', 'v1', m[1]) || findDef('batch', 'v1', m[1]);
      if (!def) throw new ApiError(404, 'NotFound', `no resource ${m[1]}`);
      return d.store.list(def, m[2]);
    }
    if ((m = /^\/pods\/([^/]+)\/([^/]+)\/(run|exit|waiting|unschedulable|log|proxy)$/.exec(path)) && method === 'POST') {
      const [, ns, name, op] = m;
      switch (op) {
        case 'run': this.pod(ns, name); return c.run(ns, name, { podIP: body.podIP });
        case 'exit':
          this.pod(ns, name);
          return c.exit(ns, name, Number(body.code ?? 0), body.container, { reason: body.reason, message: body.message });
        case 'waiting':
          this.pod(ns, name);
          return c.waiting(ns, name, body.reason || 'ContainerCreating', body.message, body.container);
        case 'unschedulable': this.pod(ns, name); return c.unschedulable(ns, name, body.message);
        case 'log': return { lines: c.appendLog(this.pod(ns, name), body.container, body.text ?? '') };
        case 'proxy': {
          if (!body.target) throw new ApiError(400, 'BadRequest', 'proxy: target (http://HOST:PORT or unix:/path) is required');
          const key = `${ns}/${name}`;
          if (!d.api.proxies.has(key)) d.api.proxies.set(key, new Map());
          d.api.proxies.get(key).set(body.port === undefined ? '*' : String(body.port), body.target);
          return { ok: true };
        }
        default:
      }
    }
    throw new ApiError(404, 'NotFound', `no control route ${method} /_double${path}`);
  }
}
