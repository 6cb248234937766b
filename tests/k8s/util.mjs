// util.mjs — wire-level helpers shared by the Kubernetes API double: Status
// bodies and the error type that carries them, timestamps, label and field
// selectors, and the three PATCH flavours the API server accepts.
//
// Messages and reasons follow the real API server's, because clients (kubectl,
// fracta-spawn-k8s) show them to users and tests compare them.

export class ApiError extends Error {
  constructor(code, reason, message, details, headers) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers || {};
  }
}

export function statusBody(code, reason, message, details) {
  const s = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details !== undefined) s.details = details;
  s.code = code;
  return s;
}

export function successStatus(details) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

// qualified resource as the server prints it: "pods", "jobs.batch"
export const qualified = (def) => (def.group ? `${def.plural}.${def.group}` : def.plural);

const detailsFor = (def, name) => {
  const d = {};
  if (name) d.name = name;
  if (def.group) d.group = def.group;
  d.kind = def.plural;
  return d;
};

export const notFound = (def, name) =>
  new ApiError(404, 'NotFound', `${qualified(def)} "${name}" not found`, detailsFor(def, name));
export const alreadyExists = (def, name) =>
  new ApiError(409, 'AlreadyExists', `${qualified(def)} "${name}" already exists`, detailsFor(def, name));
export const conflict = (def, name) =>
  new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsFor(def, name));
export const badRequest = (message) => new ApiError(400, 'BadRequest', message);
export const genericNotFound = () =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

// invalid(def, name, [[field, message, reason]…]) — 422 like the validators
export function invalid(def, name, errs) {
  const kindLabel = def.group ? `${def.kind}.${def.group}` : def.kind;
  const parts = errs.map(([f, m]) => `${f}: ${m}`);
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const details = { name, ...(def.group ? { group: def.group } : {}), kind: def.kind,
    causes: errs.map(([f, m, r]) => ({ reason: r || 'FieldValueInvalid', message: m, field: f })) };
  return new ApiError(422, 'Invalid', `${kindLabel} "${name}" is invalid: ${joined}`, details);
}

export const clone = (v) => (v === undefined ? undefined : structuredClone(v));

export const nowStamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
export const nowMicro = () => new Date().toISOString().replace(/Z$/, '000Z');

// like the API server's short human durations in table cells: 5s, 3m12s, 4h, 2d
export function humanAge(stamp) {
  if (!stamp) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(stamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

// ---- names and labels ------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function subdomainError(v) {
  if (v.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(v))
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
  return null;
}

export function labelNameError(v) {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(v))
    return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
  return null;
}

export function labelValueError(v) {
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(v))
    return `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`;
  return null;
}

export function qualifiedNameError(k) {
  let name = k;
  const slash = k.indexOf('/');
  if (slash >= 0) {
    const prefix = k.slice(0, slash);
    name = k.slice(slash + 1);
    if (!prefix || subdomainError(prefix)) return 'prefix part ' + (subdomainError(prefix) || 'must be non-empty');
  }
  if (!name) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name))
    return `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`;
  return null;
}

// ---- label selectors -------------------------------------------------------

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VAL = String.raw`[-A-Za-z0-9_.]*`;
const RE_NOT = new RegExp(`^!\\s*(${KEY})$`);
const RE_SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`);
const RE_CMP = new RegExp(`^(${KEY})\\s*(==|=|!=|>|<)\\s*(${VAL})$`);
const RE_EXISTS = new RegExp(`^(${KEY})$`);

function splitTopLevel(s) {
  const parts = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function parseLabelSelector(s) {
  if (s === undefined || s === null || s.trim() === '') return [];
  return splitTopLevel(s).map((raw) => {
    const p = raw.trim();
    let m;
    const req = (() => {
      if ((m = RE_NOT.exec(p))) return { key: m[1], op: '!' };
      if ((m = RE_SET.exec(p))) return { key: m[1], op: m[2], values: m[3].split(',').map((v) => v.trim()) };
      if ((m = RE_CMP.exec(p))) return { key: m[1], op: m[2] === '==' ? '=' : m[2], values: [m[3]] };
      if ((m = RE_EXISTS.exec(p))) return { key: m[1], op: 'exists' };
      return null;
    })();
    if (!req) throw badRequest(`unable to parse requirement: found '${p}', expected: identifier, '!', 'in', 'notin', '=', '==', '!='`);
    const kerr = qualifiedNameError(req.key);
    if (kerr) throw badRequest(`unable to parse requirement: key: Invalid value: "${req.key}": ${kerr}`);
    for (const [i, v] of (req.values || []).entries()) {
      const verr = labelValueError(v);
      if (verr) throw badRequest(`unable to parse requirement: values[${i}][${req.key}]: Invalid value: "${v}": ${verr}`);
    }
    if ((req.op === 'in' || req.op === 'notin') && req.values.length === 1 && req.values[0] === '' && /\(\s*\)/.test(p))
      throw badRequest(`unable to parse requirement: values: Required value: for 'in', 'notin' operators, values set can't be empty`);
    return req;
  });
}

export function labelsMatch(reqs, labels) {
  const l = labels || {};
  return reqs.every(({ key, op, values }) => {
    const has = Object.prototype.hasOwnProperty.call(l, key);
    switch (op) {
      case 'exists': return has;
      case '!': return !has;
      case '=': return has && l[key] === values[0];
      case '!=': return !has || l[key] !== values[0];
      case 'in': return has && values.includes(l[key]);
      case 'notin': return !has || !values.includes(l[key]);
      case '>': return has && Number(l[key]) > Number(values[0]);
      case '<': return has && Number(l[key]) < Number(values[0]);
      default: return false;
    }
  });
}

// matchLabels/matchExpressions (a Job's spec.selector) → requirements
export function selectorToReqs(sel) {
  const reqs = [];
  for (const [k, v] of Object.entries(sel?.matchLabels || {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of sel?.matchExpressions || []) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' }[e.operator];
    reqs.push({ key: e.key, op, values: e.values || [] });
  }
  return reqs;
}

export function selectorString(sel) {
  return Object.entries(sel?.matchLabels || {}).map(([k, v]) => `${k}=${v}`).join(',');
}

// ---- field selectors -------------------------------------------------------

export function parseFieldSelector(s, supported) {
  if (!s || !s.trim()) return [];
  const out = [];
  // a backslash escapes ',', '=' and '!' in values
  const parts = s.split(/(?<!\\),/);
  for (const p of parts) {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)(.*)$/.exec(p);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${p}'`);
    const field = m[1];
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, op: m[2] === '!=' ? '!=' : '=', value: m[3].replace(/\\(.)/g, '$1') });
  }
  return out;
}

export function getPath(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

export function fieldsMatch(reqs, obj) {
  return reqs.every(({ field, op, value }) => {
    const raw = getPath(obj, field);
    const v = raw === undefined || raw === null ? '' : String(raw);
    return op === '=' ? v === value : v !== value;
  });
}

// ---- patches ---------------------------------------------------------------

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target, patch) {
  if (!isObj(patch)) return clone(patch);
  const out = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Strategic merge patch, for the built-in types' list fields that have merge
// keys (enough for kubectl label/annotate/patch on these resources).
const MERGE_KEYS = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', env: 'name',
  volumes: 'name', volumeMounts: 'mountPath', ports: 'containerPort', ownerReferences: 'uid',
  conditions: 'type', imagePullSecrets: 'name', containerStatuses: 'name', secrets: 'name',
};
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target, patch, field) {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, field);
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      out[f] = (out[f] || []).filter((x) => !v.includes(x));
      continue;
    }
    if (k.startsWith('$')) continue; // $setElementOrder, $retainKeys: order/retention hints
    if (v === null) delete out[k];
    else {
      const r = strategicMergePatch(out[k], v, k);
      if (r === undefined) delete out[k]; else out[k] = r;
    }
  }
  return out;
}

function mergeList(target, patch, field) {
  if (MERGED_PRIMITIVE_LISTS.has(field)) return [...new Set([...target, ...patch])];
  const key = MERGE_KEYS[field];
  if (!key || !patch.every(isObj)) return clone(patch);
  const out = target.map(clone);
  for (const item of patch) {
    const idx = out.findIndex((x) => isObj(x) && x[key] === item[key]);
    if (item.$patch === 'delete') { if (idx >= 0) out.splice(idx, 1); continue; }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item, null);
    else out.push(strategicMergePatch({}, item, null));
  }
  return out;
}

// RFC 6902
export function jsonPatch(doc, ops) {
  if (!Array.isArray(ops)) throw badRequest('the patch must be a JSON array of operations');
  let d = clone(doc);
  const parse = (p) => {
    if (p === '') return [];
    if (!p.startsWith('/')) throw unprocessable(`invalid JSON pointer "${p}"`);
    return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  };
  const walk = (toks) => {
    let cur = d;
    for (const t of toks.slice(0, -1)) {
      cur = Array.isArray(cur) ? cur[Number(t)] : cur?.[t];
      if (cur === undefined || cur === null) throw unprocessable(`doc is missing path: "/${toks.join('/')}": missing value`);
    }
    return [cur, toks[toks.length - 1]];
  };
  const get = (p) => {
    const toks = parse(p);
    if (!toks.length) return d;
    const [parent, last] = walk(toks);
    const v = Array.isArray(parent) ? parent[Number(last)] : parent[last];
    if (v === undefined) throw unprocessable(`doc is missing key: ${p}: missing value`);
    return v;
  };
  const put = (p, value, replace) => {
    const toks = parse(p);
    if (!toks.length) { d = value; return; }
    const [parent, last] = walk(toks);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (replace) parent[i] = value; else parent.splice(i, 0, value);
    } else {
      if (replace && !(last in parent)) throw unprocessable(`replace operation does not apply: doc is missing key: ${p}: missing value`);
      parent[last] = value;
    }
  };
  const remove = (p) => {
    const toks = parse(p);
    const [parent, last] = walk(toks);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else {
      if (!(last in parent)) throw unprocessable(`remove operation does not apply: doc is missing path: "${p}": missing value`);
      delete parent[last];
    }
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add': put(op.path, clone(op.value), false); break;
      case 'replace': put(op.path, clone(op.value), true); break;
      case 'remove': remove(op.path); break;
      case 'move': { const v = get(op.from); remove(op.from); put(op.path, v, false); break; }
      case 'copy': put(op.path, clone(get(op.from)), false); break;
      case 'test':
        if (JSON.stringify(get(op.path)) !== JSON.stringify(op.value))
          throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      default: throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return d;
}

const unprocessable = (m) => new ApiError(422, 'Invalid', m);
