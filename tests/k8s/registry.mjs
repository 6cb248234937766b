// registry.mjs — write semantics of the double, shared by the REST handlers
// and the simulated controllers: create (generateName, defaulting,
// validation, namespace and service-account admission, dry run), update with
// resourceVersion preconditions, the three patch types, deletion with
// propagationPolicy (Background, Foreground, Orphan; graceful pod deletion)
// and the ownerReference garbage collector.

import { randomUUID } from 'node:crypto';
import {
  ApiError, badRequest, notFound, alreadyExists, conflict, clone, nowStamp, successStatus,
  mergePatch, strategicMergePatch, jsonPatch,
} from './util.mjs';
import { applyDefaults, validate, defByKind, findDef, unknownFields } from './resources.mjs';

// the alphabet the API server's name generator uses (no vowels, no lookalikes)
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const randSuffix = (n = 5) => Array.from({ length: n }, () => ALPHABET[Math.floor(Math.random() * ALPHABET.length)]).join('');

const SYSTEM_META = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds',
  'generation', 'selfLink', 'managedFields'];
const HAS_STATUS = new Set(['Pod', 'Job', 'Namespace']);

export class Registry {
  constructor(store, opts) {
    this.store = store;
    this.opts = opts; // gcDelayMs, podTerminationMs
    this.gcTimer = null;
  }

  get ns() { return findDef('', 'v1', 'namespaces'); }
  get pods() { return findDef('', 'v1', 'pods'); }

  mustGet(def, ns, name) {
    const o = this.store.get(def, ns, name);
    if (!o) throw notFound(def, name);
    return o;
  }

  checkNamespace(def, ns, forCreate, name) {
    if (!def.namespaced) return;
    const n = this.store.get(this.ns, '', ns);
    if (!n) throw notFound(this.ns, ns);
    if (forCreate && n.metadata.deletionTimestamp && def.kind !== 'Event') {
      throw new ApiError(403, 'Forbidden',
        `${def.group ? `${def.plural}.${def.group}` : def.plural} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        { name: ns, kind: def.plural, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }] });
    }
  }

  create(def, ns, body, { dryRun = false, fieldValidation = '' } = {}) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be a JSON object');
    if (body.kind && body.kind !== def.kind)
      throw badRequest(`the server could not handle the request: ${body.kind} in version "${body.apiVersion}" cannot be handled as a ${def.kind}`);
    if (body.apiVersion && body.apiVersion !== def.apiVersion)
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${def.apiVersion})`);
    if (fieldValidation === 'Strict') {
      const unknown = unknownFields(def, body);
      if (unknown.length) throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    const obj = clone(body);
    obj.apiVersion = def.apiVersion;
    obj.kind = def.kind;
    const md = (obj.metadata ??= {});
    if (def.namespaced) {
      if (md.namespace && md.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = ns;
    } else delete md.namespace;
    for (const k of SYSTEM_META) delete md[k];
    if (!md.name && md.generateName) md.name = md.generateName + randSuffix();
    md.uid = randomUUID();
    md.creationTimestamp = nowStamp();
    // keep a stable key order close to the server's: apiVersion, kind, metadata, …
    const ordered = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, ...obj };
    applyDefaults(def, ordered);
    validate(def, ordered);
    this.checkNamespace(def, ns, true, md.name);
    if (this.store.get(def, ns, md.name)) throw alreadyExists(def, md.name);
    if (def.kind === 'Pod') this.admitServiceAccount(ordered);
    if (dryRun) return ordered;
    return this.store.insert(def, ordered);
  }

  admitServiceAccount(pod) {
    const sa = pod.spec.serviceAccountName;
    const saDef = findDef('', 'v1', 'serviceaccounts');
    if (!this.store.get(saDef, pod.metadata.namespace, sa)) {
      throw new ApiError(403, 'Forbidden',
        `pods "${pod.metadata.name}" is forbidden: error looking up service account ${pod.metadata.namespace}/${sa}: serviceaccount "${sa}" not found`,
        { name: pod.metadata.name, kind: 'pods' });
    }
  }

  update(def, ns, name, body, { subresource = '', dryRun = false } = {}) {
    const cur = this.mustGet(def, ns, name);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be a JSON object');
    const bmd = body.metadata || {};
    if (bmd.name && bmd.name !== name) throw badRequest(`the name of the object (${bmd.name}) does not match the name on the URL (${name})`);
    if (def.namespaced && bmd.namespace && bmd.namespace !== ns)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (bmd.resourceVersion && bmd.resourceVersion !== cur.metadata.resourceVersion) throw conflict(def, name);
    let next;
    if (subresource === 'status') {
      next = clone(cur);
      next.status = clone(body.status);
    } else {
      next = { ...clone(body), apiVersion: def.apiVersion, kind: def.kind };
      next.metadata = { ...clone(bmd) };
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (cur.metadata[k] !== undefined) next.metadata[k] = cur.metadata[k]; else delete next.metadata[k];
      }
      next.metadata.name = name;
      if (def.namespaced) next.metadata.namespace = ns;
      applyDefaults(def, next);
      if (HAS_STATUS.has(def.kind)) next.status = clone(cur.status);
      if (def.kind === 'Job') {
        next.metadata.generation = cur.metadata.generation || 1;
        if (JSON.stringify(next.spec) !== JSON.stringify(cur.spec)) next.metadata.generation++;
      }
    }
    validate(def, next);
    if (dryRun) return { ...next, metadata: { ...next.metadata, resourceVersion: cur.metadata.resourceVersion } };
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers || []).length) {
      // the last finalizer is gone: the deletion completes
      this.store.replace(def, next);
      const gone = this.store.remove(def, next);
      this.scheduleGC();
      return gone;
    }
    return this.store.replace(def, next);
  }

  patch(def, ns, name, contentType, patch, opts = {}) {
    const cur = this.mustGet(def, ns, name);
    const type = (contentType || '').split(';')[0].trim();
    let result;
    const base = clone(cur);
    switch (type) {
      case 'application/merge-patch+json': result = mergePatch(base, patch); break;
      case 'application/strategic-merge-patch+json': result = strategicMergePatch(base, patch, null); break;
      case 'application/json-patch+json': result = jsonPatch(base, patch); break;
      default:
        throw new ApiError(415, 'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
    }
    // a resourceVersion in the patch is a precondition; otherwise the patch
    // applies to whatever is current
    if (!result.metadata?.resourceVersion) result.metadata = { ...(result.metadata || {}), resourceVersion: cur.metadata.resourceVersion };
    return this.update(def, ns, name, result, opts);
  }

  // → { code, body }
  delete(def, ns, name, options = {}, { dryRun = false } = {}) {
    const cur = this.mustGet(def, ns, name);
    const pre = options.preconditions || {};
    if (pre.uid && pre.uid !== cur.metadata.uid)
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.group ? `${def.plural}.${def.group}` : def.plural} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
    if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.group ? `${def.plural}.${def.group}` : def.plural} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
    let policy = options.propagationPolicy;
    if (!policy && options.orphanDependents !== undefined) policy = options.orphanDependents ? 'Orphan' : 'Background';
    // batch/v1 Jobs orphan their pods unless told otherwise (kept for compatibility by the real server)
    if (!policy) policy = def.kind === 'Job' ? 'Orphan' : 'Background';
    if (!['Background', 'Foreground', 'Orphan'].includes(policy))
      throw invalidDeleteOptions(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    const accepted = options.orphanDependents === false ? 202 : 200;
    if (dryRun) return { code: 200, body: clone(cur) };
    if (cur.metadata.deletionTimestamp) return { code: accepted, body: clone(cur) };

    const next = clone(cur);
    if (def.kind === 'Namespace') {
      next.metadata.deletionTimestamp = nowStamp();
      next.status = { phase: 'Terminating' };
      const res = this.store.replace(def, next);
      setTimeout(() => this.finishNamespace(name), 0);
      return { code: 200, body: res };
    }
    if (policy === 'Orphan') this.orphanDependents(cur.metadata.uid);
    if (policy === 'Foreground') {
      next.metadata.deletionTimestamp = nowStamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.finalizers = [...new Set([...(next.metadata.finalizers || []), 'foregroundDeletion'])];
      const res = this.store.replace(def, next);
      this.scheduleGC();
      return { code: accepted, body: res };
    }
    const grace = options.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
    const podGraceful = def.kind === 'Pod' && cur.spec?.nodeName && grace > 0 &&
      !['Succeeded', 'Failed'].includes(cur.status?.phase);
    if (podGraceful || (next.metadata.finalizers || []).length) {
      next.metadata.deletionTimestamp = new Date(Date.now() + (podGraceful ? grace * 1000 : 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = podGraceful ? grace : 0;
      const res = this.store.replace(def, next);
      // the kubelet confirms the pod's containers are gone
      // (a pod the kubelet runs for real is confirmed when its processes end: kubelet.mjs)
      if (podGraceful && !this.opts.kubelet?.owns(cur.metadata.uid))
        setTimeout(() => this.finalizePod(ns, name, cur.metadata.uid), this.opts.podTerminationMs);
      return { code: accepted, body: res };
    }
    const gone = this.store.remove(def, cur);
    this.scheduleGC();
    if (def.kind === 'Pod') return { code: 200, body: gone };
    return { code: 200, body: successStatus({ name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: cur.metadata.uid }) };
  }

  finalizePod(ns, name, uid) {
    const p = this.store.get(this.pods, ns, name);
    if (!p || p.metadata.uid !== uid || (p.metadata.finalizers || []).length) return;
    this.store.remove(this.pods, p);
    this.scheduleGC();
  }

  finishNamespace(name) {
    for (const def of [defByKind('Job'), defByKind('Pod'), defByKind('ConfigMap'), defByKind('Secret'),
      defByKind('ServiceAccount'), defByKind('Event')]) {
      for (const o of this.store.list(def, name)) this.store.remove(def, o);
    }
    const n = this.store.get(this.ns, '', name);
    if (n) this.store.remove(this.ns, n);
  }

  orphanDependents(uid) {
    for (const [def, o] of this.allObjects()) {
      const refs = o.metadata.ownerReferences || [];
      if (!refs.some((r) => r.uid === uid)) continue;
      const next = clone(o);
      next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
      if (!next.metadata.ownerReferences.length) delete next.metadata.ownerReferences;
      this.store.replace(def, next);
    }
  }

  *allObjects() {
    for (const t of this.store.tables.values()) {
      for (const o of [...t.values()]) yield [defByKind(o.kind), o];
    }
  }

  scheduleGC() {
    if (this.gcTimer) return;
    this.gcTimer = setTimeout(() => { this.gcTimer = null; this.collectGarbage(); }, this.opts.gcDelayMs);
  }

  // one pass of the garbage collector; reschedules itself while it changes things
  collectGarbage() {
    let changed = false;
    for (const [def, o] of [...this.allObjects()]) {
      const refs = o.metadata.ownerReferences || [];
      if (!refs.length || !this.store.get(def, o.metadata.namespace, o.metadata.name)) continue;
      const live = refs.filter((r) => this.store.byUid(r.uid));
      if (live.length === refs.length) continue;
      changed = true;
      if (!live.length) {
        if (!o.metadata.deletionTimestamp) this.delete(def, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Background' });
      } else {
        const next = clone(o);
        next.metadata.ownerReferences = live;
        this.store.replace(def, next);
      }
    }
    // owners deleted in the foreground: delete their dependents, then them
    for (const [def, o] of [...this.allObjects()]) {
      if (!o.metadata.deletionTimestamp || !(o.metadata.finalizers || []).includes('foregroundDeletion')) continue;
      const deps = [...this.allObjects()].filter(([, d]) => (d.metadata.ownerReferences || []).some((r) => r.uid === o.metadata.uid));
      for (const [ddef, d] of deps) {
        if (!d.metadata.deletionTimestamp) { this.delete(ddef, d.metadata.namespace, d.metadata.name, { propagationPolicy: 'Foreground' }); changed = true; }
      }
      if (!deps.length) {
        const next = clone(o);
        next.metadata.finalizers = next.metadata.finalizers.filter((f) => f !== 'foregroundDeletion');
        this.store.replace(def, next);
        if (!next.metadata.finalizers.length) this.store.remove(def, next);
        changed = true;
      }
    }
    if (changed) this.scheduleGC();
  }
}

function invalidDeleteOptions(message) {
  return new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: ${message}`);
}
