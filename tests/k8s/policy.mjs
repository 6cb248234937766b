// policy.mjs — who may talk to the double and what goes wrong on purpose:
// authentication (client certificates signed by the client CA, bearer tokens
// from a list or from a static-token file re-read on every request so tests
// can rotate it, or none), RBAC-style deny rules that answer with the real
// authorizer's 403 message, and injected faults (status codes with Status
// bodies, 429 with Retry-After, dropped connections, delays).

import { readFileSync } from 'node:fs';
import { ApiError } from './util.mjs';

// static token file lines: token,user[,uid[,"group1,group2"]] — or a bare token
export function parseTokenLine(line) {
  const t = line.trim();
  if (!t || t.startsWith('#')) return null;
  const cells = [];
  let cur = '', quoted = false;
  for (const ch of t) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) { cells.push(cur); cur = ''; } else cur += ch;
  }
  cells.push(cur);
  const [token, user, uid, groups] = cells.map((c) => c.trim());
  return { token, user: user || 'token-user', uid: uid || '', groups: groups ? groups.split(',').map((g) => g.trim()) : [] };
}

export class Auth {
  constructor({ tokens = [], tokenFile = '', clientCA = false, anonymous = false }) {
    this.tokens = tokens.map(parseTokenLine).filter(Boolean);
    this.tokenFile = tokenFile;
    this.clientCA = clientCA;
    this.anonymous = anonymous;
  }

  get required() { return this.tokens.length > 0 || !!this.tokenFile || this.clientCA; }

  currentTokens() {
    const list = [...this.tokens];
    if (this.tokenFile) {
      try {
        for (const l of readFileSync(this.tokenFile, 'utf8').split('\n')) {
          const t = parseTokenLine(l);
          if (t) list.push(t);
        }
      } catch { /* a missing file accepts no token from it, as during a rotation */ }
    }
    return list;
  }

  // → {user, groups, method} or null (→ 401)
  authenticate(req) {
    const sock = req.socket;
    if (this.clientCA && typeof sock.getPeerCertificate === 'function') {
      const cert = sock.getPeerCertificate();
      if (cert && cert.subject) {
        if (!sock.authorized) return null; // a certificate we cannot verify is a failed login, not anonymous
        const o = cert.subject.O;
        return { user: cert.subject.CN, groups: Array.isArray(o) ? o : o ? [o] : [], method: 'x509' };
      }
    }
    const h = req.headers.authorization;
    if (h !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
      if (!m) return null;
      const hit = this.currentTokens().find((t) => t.token === m[1]);
      if (hit) return { user: hit.user, groups: hit.groups, method: 'token' };
      if (this.required) return null;
    }
    if (!this.required || this.anonymous) return { user: 'system:anonymous', groups: ['system:unauthenticated'], method: 'anonymous' };
    return null;
  }
}

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

// deny rules: {verb, resource ("pods", "pods/log", "jobs"), namespace, user}; "*" or absent = any
export class Deny {
  constructor() { this.rules = []; }

  static parse(spec) {
    const [verb, resource, namespace, user] = spec.split(':');
    return { verb, resource, namespace: namespace || undefined, user: user || undefined };
  }

  check(who, info) {
    if (!info.def) return;
    const res = info.sub ? `${info.def.plural}/${info.sub}` : info.def.plural;
    const any = (rule, v) => rule === undefined || rule === '*' || rule === v;
    const hit = this.rules.find((r) => any(r.verb, info.verb) && any(r.resource, res) && any(r.namespace, info.ns) && any(r.user, who.user));
    if (!hit) return;
    const def = info.def;
    const q = def.group ? `${def.plural}.${def.group}` : def.plural;
    const subject = info.name ? `${q} "${info.name}"` : q;
    const scope = info.ns ? `in the namespace "${info.ns}"` : 'at the cluster scope';
    const details = { ...(info.name ? { name: info.name } : {}), ...(def.group ? { group: def.group } : {}), kind: def.plural };
    throw new ApiError(403, 'Forbidden',
      `${subject} is forbidden: User "${who.user}" cannot ${info.verb} resource "${res}" in API group "${def.group}" ${scope}`, details);
  }
}

const REASONS = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError',
  503: 'ServiceUnavailable', 504: 'Timeout',
};
const MESSAGES = {
  429: 'Too many requests, please try again later.',
  500: 'Internal error occurred: injected by the test',
  503: 'the server is currently unable to handle the request',
  504: 'Timeout: request did not complete within requested timeout - context deadline exceeded',
};

// faults: {method, path (regex source, matched against path?query), count (-1 =
// forever), code, reason, message, retryAfter, drop, delayMs}
export class Faults {
  constructor() { this.list = []; }

  add(f) {
    if (!f.path) throw new ApiError(400, 'BadRequest', 'fault: path (a regular expression) is required');
    this.list.push({ method: f.method || '*', path: f.path, re: new RegExp(f.path), count: f.count ?? 1,
      code: f.code ?? 500, reason: f.reason, message: f.message, retryAfter: f.retryAfter, drop: !!f.drop,
      delayMs: f.delayMs || 0, hits: 0 });
  }

  take(method, target) {
    const f = this.list.find((x) => x.count !== 0 && (x.method === '*' || x.method === method) && x.re.test(target));
    if (!f) return null;
    if (f.count > 0) f.count--;
    f.hits++;
    return f;
  }

  errorFor(f) {
    const reason = f.reason || REASONS[f.code] || 'Unknown';
    const details = f.retryAfter !== undefined ? { retryAfterSeconds: f.retryAfter } : undefined;
    const headers = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
    return new ApiError(f.code, reason, f.message || MESSAGES[f.code] || `injected fault ${f.code}`, details, headers);
  }

  describe() { return this.list.map(({ re, ...rest }) => rest); }
}
