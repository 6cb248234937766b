// store.mjs — the double's "etcd + watch cache": every object of every
// resource, one global resourceVersion counter, a bounded history of change
// events (so watches can resume from a resourceVersion, and get 410 Expired
// once it has been compacted away), and the live watchers.

import { clone } from './util.mjs';

export class Store {
  constructor({ historySize = 1000 } = {}) {
    this.rv = 100;
    this.historySize = historySize;
    this.tables = new Map(); // plural.group -> Map("ns/name" -> object)
    this.uids = new Map(); // uid -> [def, key]
    this.history = []; // {rv, type, def, obj, old}
    this.compactedRV = this.rv; // events after this RV are all in history
    this.watchers = new Set();
    this.hooks = []; // (type, def, obj, old) after watchers have been told
  }

  resKey(def) { return `${def.plural}.${def.group}`; }
  objKey(ns, name) { return `${ns || ''}/${name}`; }

  table(def) {
    const k = this.resKey(def);
    if (!this.tables.has(k)) this.tables.set(k, new Map());
    return this.tables.get(k);
  }

  get(def, ns, name) {
    return this.table(def).get(this.objKey(def.namespaced ? ns : '', name));
  }

  byUid(uid) {
    const hit = this.uids.get(uid);
    if (!hit) return null;
    const [def, key] = hit;
    const obj = this.table(def).get(key);
    return obj ? [def, obj] : null;
  }

  // ns undefined = all namespaces
  list(def, ns) {
    const out = [];
    for (const o of this.table(def).values()) if (!def.namespaced || ns === undefined || o.metadata.namespace === ns) out.push(o);
    return out.sort((a, b) => (a.metadata.namespace || '').localeCompare(b.metadata.namespace || '') ||
      a.metadata.name.localeCompare(b.metadata.name));
  }

  currentRV() { return String(this.rv); }

  insert(def, obj) {
    obj.metadata.resourceVersion = String(++this.rv);
    const key = this.objKey(obj.metadata.namespace, obj.metadata.name);
    this.table(def).set(key, obj);
    this.uids.set(obj.metadata.uid, [def, key]);
    this.emit('ADDED', def, obj, null);
    return clone(obj);
  }

  replace(def, obj) {
    const key = this.objKey(obj.metadata.namespace, obj.metadata.name);
    const old = this.table(def).get(key);
    obj.metadata.resourceVersion = String(++this.rv);
    this.table(def).set(key, obj);
    this.emit('MODIFIED', def, obj, old);
    return clone(obj);
  }

  remove(def, obj) {
    const key = this.objKey(obj.metadata.namespace, obj.metadata.name);
    const old = this.table(def).get(key);
    if (!old) return null;
    this.table(def).delete(key);
    this.uids.delete(old.metadata.uid);
    const gone = clone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', def, gone, old);
    return clone(gone);
  }

  emit(type, def, obj, old) {
    const entry = { rv: this.rv, type, def, obj: clone(obj), old: old ? clone(old) : null };
    this.history.push(entry);
    while (this.history.length > this.historySize) this.compactedRV = this.history.shift().rv;
    for (const w of [...this.watchers]) deliver(w, entry);
    for (const h of this.hooks) h(type, def, clone(obj), old ? clone(old) : null);
  }

  // forget all history: every watch resuming from an older RV gets 410
  compact() {
    this.history = [];
    this.compactedRV = this.rv;
  }

  // watch(def, ns, match, send, fromRV) — replays history after fromRV, then
  // follows; returns the watcher (pass to unwatch) or throws 'expired'
  watch(def, ns, match, send, fromRV) {
    const w = { def, ns, match, send };
    if (fromRV !== null) {
      if (fromRV < this.compactedRV) {
        const e = new Error('expired');
        e.expired = `too old resource version: ${fromRV} (${this.compactedRV + 1})`;
        throw e;
      }
      for (const entry of this.history) if (entry.rv > fromRV) deliver(w, entry);
    }
    this.watchers.add(w);
    return w;
  }

  unwatch(w) { this.watchers.delete(w); }

  reset() {
    this.tables.clear();
    this.uids.clear();
    this.compact();
  }
}

// what a filtered watcher sees: an object entering its selector is ADDED,
// leaving it is DELETED, like the real watch cache
function deliver(w, entry) {
  if (entry.def !== w.def) return;
  if (w.def.namespaced && w.ns !== undefined && entry.obj.metadata.namespace !== w.ns) return;
  const now = w.match(entry.obj);
  if (entry.type === 'MODIFIED') {
    const before = entry.old ? w.match(entry.old) : false;
    if (now && before) w.send('MODIFIED', entry.obj);
    else if (now) w.send('ADDED', entry.obj);
    else if (before) w.send('DELETED', entry.obj);
  } else if (now) {
    w.send(entry.type, entry.obj);
  }
}
