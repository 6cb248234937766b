// api.mjs — the REST surface of the double: request routing the way the API
// server parses paths (group, version, namespace, resource, name,
// subresource), discovery and version documents, list/get/create/update/
// patch/delete/deletecollection, watch streams, pods/log and pods/proxy, and
// content negotiation for kubectl's server-side Table printing.

import http from 'node:http';
import net from 'node:net';
import {
  ApiError, statusBody, badRequest, genericNotFound, methodNotAllowed, notFound, clone,
  parseLabelSelector, labelsMatch, parseFieldSelector, fieldsMatch,
} from './util.mjs';
import { RESOURCES, findDef, apiResourceList, toTable } from './resources.mjs';
import { unauthorized } from './policy.mjs';
import { openapiRoot, openapiGroupVersion } from './openapi.mjs';

const MAX_BODY = 3 * 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'authorization']);

export function sendJSON(res, code, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private',
    'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

export function sendError(res, e) {
  if (e instanceof ApiError) return sendJSON(res, e.code, statusBody(e.code, e.reason, e.message, e.details), e.headers);
  process.stderr.write(`k8s-double: internal error: ${e.stack || e}\n`);
  return sendJSON(res, 500, statusBody(500, 'InternalError', `Internal error occurred: ${e.message}`, {}));
}

export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_BODY) reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readJSON(req) {
  const buf = await readBody(req);
  if (!buf.length) return null;
  const ct = (req.headers['content-type'] || '').split(';')[0].trim();
  // protobuf and CBOR bodies are what typed clients send first; like a server
  // without those codecs, say so, and client-go falls back to JSON
  if (/protobuf|cbor/.test(ct)) {
    throw new ApiError(415, 'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  try { return JSON.parse(buf.toString('utf8')); } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${e.message}`);
  }
}

const truthy = (v) => v === 'true' || v === '1';

// parse a path the way the API server's RequestInfoFactory does
export function requestInfo(method, path, q) {
  const seg = path.split('/').filter(Boolean);
  let group, version, rest;
  if (seg[0] === 'api' && seg.length >= 2) { group = ''; version = seg[1]; rest = seg.slice(2); }
  else if (seg[0] === 'apis' && seg.length >= 3) { group = seg[1]; version = seg[2]; rest = seg.slice(3); }
  else return { resource: false };
  const info = { resource: true, group, version, rest };
  if (!rest.length) return { ...info, discovery: true };
  let ns, plural, name, sub, tail;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findDef(group, version, rest[2])?.namespaced) {
    [, ns, plural, name, sub] = rest;
    tail = rest.slice(5);
  } else {
    [plural, name, sub] = rest;
    tail = rest.slice(3);
  }
  const def = findDef(group, version, plural);
  Object.assign(info, { def, ns, name, sub, tail });
  if (!def) return info;
  if (sub === 'proxy') {
    info.verb = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] || 'get';
  } else if (method === 'GET' || method === 'HEAD') {
    info.verb = name ? 'get' : (truthy(q.get('watch')) ? 'watch' : 'list');
  } else {
    info.verb = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection' }[method] || method.toLowerCase();
  }
  return info;
}

export class Api {
  constructor({ store, registry, cluster, auth, deny, faults, opts, version }) {
    Object.assign(this, { store, registry, cluster, auth, deny, faults, opts, version });
    this.requests = [];
    this.seq = 0;
    this.watches = new Set(); // {res, end()}
    this.proxies = new Map(); // "ns/name" -> Map(port|"*" -> target)
  }

  async handle(req, res, listener) {
    const url = new URL(req.url, 'http://double');
    const q = url.searchParams;
    const entry = { seq: ++this.seq, time: new Date().toISOString(), listener, method: req.method, path: url.pathname,
      query: Object.fromEntries(q), accept: req.headers.accept, contentType: req.headers['content-type'],
      user: null, auth: null, status: null };
    this.requests.push(entry);
    const writeHead = res.writeHead;
    res.writeHead = function (code, ...rest) { entry.status = code; return writeHead.call(this, code, ...rest); };
    try {
      const who = this.auth.authenticate(req);
      if (!who) throw unauthorized();
      entry.user = who.user;
      entry.auth = who.method;
      // like the real authentication filter: credentials go no further (pods/proxy!)
      delete req.headers.authorization;
      const info = requestInfo(req.method, url.pathname, q);
      info.user = who.user;
      if (info.def) Object.assign(entry, { verb: info.verb, resource: info.def.plural, group: info.def.group,
        subresource: info.sub || undefined, namespace: info.ns, name: info.name });
      const fault = this.faults.take(req.method, url.pathname + url.search);
      if (fault) {
        entry.fault = true;
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault.drop) { req.socket.destroy(); return; }
        if (fault.code) throw this.faults.errorFor(fault);
      }
      if (info.def) this.deny.check(who, info);
      await this.route(req, res, url, q, info);
    } catch (e) {
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    }
  }

  async route(req, res, url, q, info) {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (!info.resource) return this.nonResource(req, res, p, url);
    if (info.discovery) {
      if (req.method !== 'GET') throw methodNotAllowed();
      if (RESOURCES.some((d) => d.group === info.group && d.version === info.version)) return sendJSON(res, 200, apiResourceList(info.group, info.version));
      throw genericNotFound();
    }
    const { def } = info;
    if (!def) throw genericNotFound();
    if (def.namespaced && info.name && info.ns === undefined) throw genericNotFound();
    if (!info.sub) {
      if (!info.name) {
        if (req.method === 'GET') return truthy(q.get('watch')) ? this.watch(req, res, q, info) : this.list(req, res, q, info);
        if (req.method === 'POST') return this.create(req, res, q, info);
        if (req.method === 'DELETE') return this.deleteCollection(req, res, q, info);
        throw methodNotAllowed();
      }
      if (req.method === 'GET') return this.get(req, res, q, info);
      if (req.method === 'PUT') return this.write(req, res, q, info, 'update');
      if (req.method === 'PATCH') return this.write(req, res, q, info, 'patch');
      if (req.method === 'DELETE') return this.remove(req, res, q, info);
      throw methodNotAllowed();
    }
    if (!def.subresources[info.sub] || info.name === undefined) throw genericNotFound();
    if (info.sub === 'log' && req.method === 'GET') return this.log(req, res, q, info);
    if (info.sub === 'proxy') return this.proxy(req, res, url, info);
    if (info.sub === 'status') {
      if (req.method === 'GET') return this.get(req, res, q, info);
      if (req.method === 'PUT') return this.write(req, res, q, info, 'update');
      if (req.method === 'PATCH') return this.write(req, res, q, info, 'patch');
    }
    throw methodNotAllowed();
  }

  nonResource(req, res, p, url) {
    if (['/healthz', '/livez', '/readyz'].includes(p)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('ok');
    }
    if (p === '/version') return sendJSON(res, 200, this.version);
    if (p === '/api') {
      const host = (req.headers.host || '127.0.0.1');
      return sendJSON(res, 200, { kind: 'APIVersions', versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] });
    }
    if (p === '/apis') {
      return sendJSON(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [
        { name: 'batch', versions: [{ groupVersion: 'batch/v1', version: 'v1' }], preferredVersion: { groupVersion: 'batch/v1', version: 'v1' } }] });
    }
    if (p === '/apis/batch') {
      return sendJSON(res, 200, { kind: 'APIGroup', apiVersion: 'v1', name: 'batch',
        versions: [{ groupVersion: 'batch/v1', version: 'v1' }], preferredVersion: { groupVersion: 'batch/v1', version: 'v1' } });
    }
    if (p === '/openapi/v3') return sendJSON(res, 200, openapiRoot());
    if (p.startsWith('/openapi/v3/')) {
      const doc = openapiGroupVersion(p.slice('/openapi/v3/'.length));
      if (doc) return sendJSON(res, 200, doc);
    }
    if (p === '/') {
      return sendJSON(res, 200, { paths: ['/api', '/api/v1', '/apis', '/apis/batch', '/apis/batch/v1', '/healthz',
        '/livez', '/openapi/v3', '/readyz', '/version'] });
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    return res.end('404 page not found\n');
  }

  wantsTable(req) { return /as=Table/.test(req.headers.accept || ''); }

  selectors(q, def) {
    const reqs = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), def.fieldSelectors);
    return (o) => labelsMatch(reqs, o.metadata.labels) && fieldsMatch(fields, o);
  }

  dryRun(q) {
    const v = q.getAll('dryRun');
    for (const x of v) if (x !== 'All') throw new ApiError(400, 'BadRequest', `dryRun: Unsupported value: "${x}": supported values: "All"`);
    return v.length > 0;
  }

  nsOf(info) { return info.def.namespaced ? info.ns : ''; }

  list(req, res, q, info) {
    const { def } = info;
    const match = this.selectors(q, def);
    let items = this.store.list(def, info.ns).filter(match);
    const rv = this.store.currentRV();
    const meta = { resourceVersion: rv };
    const cont = q.get('continue');
    if (cont) {
      let start;
      try { start = JSON.parse(Buffer.from(cont, 'base64url').toString()).start; } catch { throw badRequest('continue key is not valid: illegal base64 data at input byte 0'); }
      items = items.filter((o) => `${o.metadata.namespace || ''}/${o.metadata.name}` > start);
    }
    const limit = Number(q.get('limit') || 0);
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      meta.continue = Buffer.from(JSON.stringify({ rv, start: `${last.metadata.namespace || ''}/${last.metadata.name}` })).toString('base64url');
      meta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (this.wantsTable(req)) {
      const t = toTable(def, items.map(clone), rv, q.get('includeObject') || 'Metadata');
      if (meta.continue) t.metadata.continue = meta.continue;
      return sendJSON(res, 200, t);
    }
    return sendJSON(res, 200, { kind: `${def.kind}List`, apiVersion: def.apiVersion, metadata: meta,
      items: items.map((o) => { const { kind, apiVersion, ...rest } = clone(o); return rest; }) });
  }

  get(req, res, q, info) {
    const o = this.store.get(info.def, this.nsOf(info), info.name);
    if (!o) throw notFound(info.def, info.name);
    if (this.wantsTable(req)) return sendJSON(res, 200, toTable(info.def, [clone(o)], o.metadata.resourceVersion, q.get('includeObject') || 'Metadata'));
    return sendJSON(res, 200, o);
  }

  async create(req, res, q, info) {
    const body = await readJSON(req);
    const dry = this.dryRun(q);
    const fv = q.get('fieldValidation') || '';
    if (fv && !['Ignore', 'Warn', 'Strict'].includes(fv)) throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Warn", "Strict"`);
    const o = this.registry.create(info.def, info.def.namespaced ? info.ns : '', body || {}, { dryRun: dry, fieldValidation: fv });
    return sendJSON(res, 201, o);
  }

  async write(req, res, q, info, kind) {
    const body = await readJSON(req);
    const opts = { subresource: info.sub || '', dryRun: this.dryRun(q) };
    const ns = this.nsOf(info);
    const o = kind === 'update'
      ? this.registry.update(info.def, ns, info.name, body, opts)
      : this.registry.patch(info.def, ns, info.name, req.headers['content-type'], body, opts);
    return sendJSON(res, 200, o);
  }

  async deleteOptions(req, q) {
    const body = (await readJSON(req)) || {};
    for (const k of ['propagationPolicy', 'gracePeriodSeconds', 'orphanDependents']) {
      if (q.has(k) && body[k] === undefined) body[k] = k === 'propagationPolicy' ? q.get(k) : (k === 'orphanDependents' ? truthy(q.get(k)) : Number(q.get(k)));
    }
    return body;
  }

  async remove(req, res, q, info) {
    const options = await this.deleteOptions(req, q);
    const { code, body } = this.registry.delete(info.def, this.nsOf(info), info.name, options, { dryRun: this.dryRun(q) || (options.dryRun || []).includes('All') });
    return sendJSON(res, code, body);
  }

  async deleteCollection(req, res, q, info) {
    const options = await this.deleteOptions(req, q);
    const dry = this.dryRun(q);
    const match = this.selectors(q, info.def);
    const gone = [];
    for (const o of this.store.list(info.def, info.ns).filter(match)) {
      const { body } = this.registry.delete(info.def, o.metadata.namespace || '', o.metadata.name, options, { dryRun: dry });
      gone.push(body.kind === 'Status' ? o : body);
    }
    return sendJSON(res, 200, { kind: `${info.def.kind}List`, apiVersion: info.def.apiVersion,
      metadata: { resourceVersion: this.store.currentRV() }, items: gone.map((o) => { const { kind, apiVersion, ...r } = clone(o); return r; }) });
  }

  // ---- watch -------------------------------------------------------------------

  watch(req, res, q, info) {
    const { def } = info;
    const match = this.selectors(q, def);
    const rvParam = q.get('resourceVersion') || '';
    const sendInitial = q.get('sendInitialEvents') === 'true';
    let fromRV = null;
    if (rvParam && rvParam !== '0' && !sendInitial) {
      if (!/^\d+$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
      fromRV = Number(rvParam);
    }
    const table = this.wantsTable(req);
    const includeObject = q.get('includeObject') || 'Metadata';
    let first = true;
    const encode = (type, obj) => {
      if (!table || type === 'BOOKMARK' || type === 'ERROR') return { type, object: obj };
      const t = toTable(def, [obj], obj.metadata.resourceVersion, includeObject, first);
      first = false;
      return { type, object: t };
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.socket?.setNoDelay(true);
    const send = (type, obj) => { if (!res.writableEnded) res.write(JSON.stringify(encode(type, obj)) + '\n'); };
    const bookmark = (annotations) => send('BOOKMARK', { kind: def.kind, apiVersion: def.apiVersion,
      metadata: { resourceVersion: this.store.currentRV(), ...(annotations ? { annotations } : {}) } });
    let w;
    try {
      if (fromRV === null) {
        for (const o of this.store.list(def, info.ns).filter(match)) send('ADDED', clone(o));
        if (sendInitial) bookmark({ 'k8s.io/initial-events-end': 'true' });
      }
      w = this.store.watch(def, info.ns, match, send, fromRV === null ? Number(this.store.currentRV()) : fromRV);
    } catch (e) {
      if (!e.expired) throw e;
      send('ERROR', statusBody(410, 'Expired', e.expired));
      return res.end();
    }
    const timers = [];
    const entry = { res, end: (mode) => { if (mode === 'reset') res.socket?.destroy(); else res.end(); },
      about: { resource: def.plural, namespace: info.ns || null, labelSelector: q.get('labelSelector') || '', user: info.user } };
    const cleanup = () => {
      this.store.unwatch(w);
      for (const t of timers) clearTimeout(t), clearInterval(t);
      this.watches.delete(entry);
    };
    this.watches.add(entry);
    if (truthy(q.get('allowWatchBookmarks'))) timers.push(setInterval(() => bookmark(), this.opts.bookmarkIntervalMs));
    const timeout = Number(q.get('timeoutSeconds') || 0);
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    res.on('close', cleanup);
    res.on('finish', cleanup);
  }

  // the watches open now (log follows are not watches)
  openWatches() {
    return [...this.watches].filter((w) => w.about).map((w) => w.about);
  }

  dropWatches(mode) {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.end(mode);
    return n;
  }

  // ---- pods/log -----------------------------------------------------------------

  log(req, res, q, info) {
    const pod = this.store.get(info.def, info.ns, info.name);
    if (!pod) throw notFound(info.def, info.name);
    const names = pod.spec.containers.map((c) => c.name);
    let c = q.get('container');
    if (!c) {
      if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${info.name}, choose one of: [${names.join(' ')}]`);
      c = names[0];
    } else if (!names.includes(c) && !(pod.spec.initContainers || []).some((x) => x.name === c)) {
      throw badRequest(`container ${c} is not valid for pod ${info.name}`);
    }
    if (truthy(q.get('previous'))) throw badRequest(`previous terminated container "${c}" in pod "${info.name}" not found`);
    const textHeaders = { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' };
    // not scheduled yet: the server has no kubelet to ask and answers with nothing
    if (!pod.spec.nodeName) { res.writeHead(200, textHeaders); return res.end(); }
    const cs = (pod.status.containerStatuses || []).find((x) => x.name === c);
    if (!cs || cs.state?.waiting) {
      const reason = cs?.state?.waiting?.reason || 'ContainerCreating';
      const why = /^(ErrImagePull|ImagePullBackOff)$/.test(reason) ? 'trying and failing to pull image'
        : (/^(InvalidImageName|ErrImageNeverPull)$/.test(reason) ? "image can't be pulled" : reason);
      throw badRequest(`container "${c}" in pod "${info.name}" is waiting to start: ${why}`);
    }
    const timestamps = truthy(q.get('timestamps'));
    const fmt = (l) => (timestamps ? `${l.ts} ${l.line}\n` : `${l.line}\n`);
    let lines = this.cluster.logLines(pod, c);
    if (q.get('sinceSeconds')) { const t = Date.now() - Number(q.get('sinceSeconds')) * 1000; lines = lines.filter((l) => Date.parse(l.ts) >= t); }
    if (q.get('sinceTime')) { const t = Date.parse(q.get('sinceTime')); lines = lines.filter((l) => Date.parse(l.ts) >= t); }
    if (q.has('tailLines')) {
      const n = Number(q.get('tailLines'));
      if (!Number.isInteger(n) || n < 0) throw badRequest(`tailLines: Invalid value: ${q.get('tailLines')}: must be greater than or equal to 0`);
      lines = n === 0 ? [] : lines.slice(-n);
    }
    let budget = q.has('limitBytes') ? Number(q.get('limitBytes')) : Infinity;
    const emit = (s) => {
      if (budget <= 0) return false;
      const b = Buffer.from(s);
      const part = b.length > budget ? b.subarray(0, budget) : b;
      budget -= part.length;
      res.write(part);
      return budget > 0;
    };
    const follow = truthy(q.get('follow')) && !cs.state?.terminated;
    res.writeHead(200, follow ? { ...textHeaders, 'Transfer-Encoding': 'chunked' } : textHeaders);
    for (const l of lines) if (!emit(fmt(l))) return res.end();
    if (!follow) return res.end();
    res.socket?.setNoDelay(true);
    const stop = this.cluster.follow(pod.metadata.uid, (ev) => {
      if (ev.end) { if (!ev.container || ev.container === c) res.end(); return; }
      if (ev.container !== c) return;
      for (const l of ev.lines) if (!emit(fmt(l))) { res.end(); return; }
    });
    const entry = { res, end: (mode) => { if (mode === 'reset') res.socket?.destroy(); else res.end(); } };
    this.watches.add(entry);
    res.on('close', () => { stop(); this.watches.delete(entry); });
  }

  // ---- pods/proxy ------------------------------------------------------------------

  proxy(req, res, url, info) {
    const m = /^(?:(https?):)?([^:]+)(?::([^:]*))?$/.exec(info.name);
    if (!m) throw badRequest(`invalid pod name and port: ${info.name}`);
    const [, , name, portArg] = m;
    const pod = this.store.get(info.def, info.ns, name);
    if (!pod) throw notFound(info.def, name);
    const ip = pod.status?.podIP;
    if (!ip) throw badRequest('address not allowed');
    let port = portArg || '';
    if (!port) port = String(pod.spec.containers.flatMap((c) => c.ports || [])[0]?.containerPort || '');
    const targets = this.proxies.get(`${info.ns}/${name}`);
    const target = targets?.get(port) || targets?.get('*') || this.opts.kubelet?.target(pod, port);
    const refused = (why) => new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${why}`);
    if (!target) throw refused(`dial tcp ${ip}:${port || 80}: connect: connection refused`);
    const marker = `/${info.name}/proxy`;
    const at = url.pathname.indexOf(marker);
    const upstreamPath = (url.pathname.slice(at + marker.length) || '/') + url.search;
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    const opts = { method: req.method, path: upstreamPath, headers };
    if (target.startsWith('unix:')) opts.socketPath = target.slice(5);
    else {
      const t = new URL(target);
      opts.host = t.hostname;
      opts.port = t.port || 80;
      headers.host = `${ip}:${port || 80}`;
    }
    if (req.upgradeHead) return this.proxyUpgrade(req, res, opts, refused, `${ip}:${port || 80}`);
    return new Promise((resolve) => {
      const up = http.request(opts, (ures) => {
        const h = {};
        for (const [k, v] of Object.entries(ures.headers)) if (!HOP_BY_HOP.has(k) || k === 'transfer-encoding') h[k] = v;
        delete h['transfer-encoding'];
        res.writeHead(ures.statusCode, h);
        res.socket?.setNoDelay(true);
        ures.on('data', (d) => res.write(d));
        ures.on('end', () => { res.end(); resolve(); });
        ures.on('error', () => { res.destroy(); resolve(); });
      });
      up.on('error', (e) => {
        if (!res.headersSent) sendError(res, refused(`dial tcp ${ip}:${port || 80}: ${e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'connect: connection refused' : e.message}`));
        else res.destroy();
        resolve();
      });
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
  }

  // An upgrade passes through as in the real API server (its
  // UpgradeAwareHandler): the request, Connection and Upgrade kept, goes to
  // the pod; the pod's answer, 101 or not, and every byte after it, both
  // ways, as they come, until either side closes.
  proxyUpgrade(req, res, opts, refused, where) {
    const socket = res.socket;
    const up = opts.socketPath ? net.connect(opts.socketPath) : net.connect(opts.port, opts.host);
    return new Promise((resolve) => {
      let connected = false;
      up.once('connect', () => {
        connected = true;
        res.upgraded = true;
        res.detachSocket(socket);
        const headers = { ...opts.headers, connection: 'Upgrade', upgrade: req.headers.upgrade };
        const head = [`${req.method} ${opts.path} HTTP/1.1`];
        for (const [k, v] of Object.entries(headers)) for (const one of [v].flat()) head.push(`${k}: ${one}`);
        up.write(head.join('\r\n') + '\r\n\r\n');
        if (req.upgradeHead.length) up.write(req.upgradeHead);
        up.setNoDelay(true);
        socket.setNoDelay?.(true);
        socket.pipe(up);
        up.pipe(socket);
      });
      up.on('error', (e) => {
        if (connected) socket.destroy();
        else sendError(res, refused(`dial tcp ${where}: ${e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'connect: connection refused' : e.message}`));
        resolve();
      });
      up.on('close', () => { socket.end(); resolve(); });
      socket.on('close', () => up.destroy());
      socket.on('error', () => up.destroy());
    });
  }
}
