// kubelet.mjs — with --run-pods DIR, a kubelet that runs each pod for real:
// every container's command is a local process (pod-sandbox.sh: its own PID
// and mount namespaces, the host's / as its image, fracta's binaries from
// --pod-bin on PATH), its volumes directories under DIR, its environment
// resolved from the pod spec (value, secretKeyRef, configMapKeyRef, fieldRef,
// envFrom, $(VAR) references), a persistentVolumeClaim a directory under
// DIR/.claims that outlives its pods (subPaths made on first use), its
// output the pod's log, its exit code the
// container's terminated state and the pod's phase, and pods/proxy reaches
// what it listens on. Without the flag the double's pods move only when the
// test says so (controllers.mjs).
//
// What a real kubelet does and this one does not: pull images (the host is
// the image), run as the securityContext's user, network namespaces. All pods
// share the host's network, so each pod gets its own loopback address as its
// IP (127.N.x.y, N random per double), and an argument naming a declared containerPort on every
// interface (":7070", "0.0.0.0:7070") is given that address instead — the one
// place the command differs from the spec.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defByKind } from './resources.mjs';
import { constants } from 'node:os';
import { nowStamp } from './util.mjs';

const POD = defByKind('Pod');
const SECRET = defByKind('Secret');
const CM = defByKind('ConfigMap');
const SANDBOX = join(dirname(fileURLToPath(import.meta.url)), 'pod-sandbox.sh');
const IMAGE_PATH = '/opt/fracta/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const RETRY_MS = 200;

const cond = (type, status, reason) => ({ type, status, lastProbeTime: null, lastTransitionTime: nowStamp(),
  ...(reason ? { reason } : {}) });
const isTerminal = (p) => ['Succeeded', 'Failed'].includes(p.status?.phase);

// $(VAR) as the kubelet expands it: defined names only, $$ escapes.
function expand(s, vars) {
  return String(s).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

export class Kubelet {
  constructor(cluster, registry, store, { root, bin }) {
    this.cluster = cluster;
    this.registry = registry;
    this.store = store;
    this.root = root;
    this.bin = bin;
    this.pods = new Map(); // uid -> {ns, name, ip, dir, procs: Map(container -> child), pending, timer}
    this.nextIP = 1;
    // the second byte of every pod IP, picked per double: two doubles on one
    // host (test files run side by side, a test's pods outliving it under a
    // slow sanitizer build) otherwise both give their first pod 127.1.0.3
    // and its supervisor's :7070 is taken ("Address already in use")
    this.net = 1 + Math.floor(Math.random() * 250);
    store.hooks.push((type, def, obj) => { if (def === POD) this.onPod(type, obj); });
    process.on('exit', () => { for (const p of this.pods.values()) this.killAll(p, 'SIGKILL'); });
  }

  owns(uid) { return this.pods.has(uid); }

  // pods/proxy: what a container of a running pod listens on
  target(pod, port) {
    const p = this.pods.get(pod.metadata.uid);
    return p && p.procs.size ? `http://${p.ip}:${port || 80}` : null;
  }

  onPod(type, obj) {
    const uid = obj.metadata.uid;
    if (type === 'ADDED' && !isTerminal(obj)) {
      const ip = `127.${this.net}.${Math.floor(this.nextIP / 250)}.${(this.nextIP++ % 250) + 2}`;
      const dir = join(this.root, obj.metadata.namespace, `${obj.metadata.name}-${uid.slice(0, 8)}`);
      this.pods.set(uid, { ns: obj.metadata.namespace, name: obj.metadata.name, ip, dir, procs: new Map(), warned: new Set() });
      setImmediate(() => this.sync(uid));
      return;
    }
    const p = this.pods.get(uid);
    if (!p) return;
    if (type === 'DELETED') {
      this.killAll(p, 'SIGKILL');
      clearTimeout(p.timer);
      clearTimeout(p.graceTimer);
      if (!p.procs.size) this.forget(uid);
      else p.gone = true;
    } else if (obj.metadata.deletionTimestamp && !p.stopping) {
      p.stopping = true;
      clearTimeout(p.timer);
      if (!p.procs.size) { this.finalize(uid); return; }
      this.killAll(p, 'SIGTERM');
      const grace = obj.metadata.deletionGracePeriodSeconds ?? 30;
      p.graceTimer = setTimeout(() => this.killAll(p, 'SIGKILL'), grace * 1000);
    }
  }

  forget(uid) {
    const p = this.pods.get(uid);
    if (!p) return;
    this.pods.delete(uid);
    // emptyDirs go with the pod; PersistentVolumeClaims stay
    try { rmSync(p.dir, { recursive: true, force: true }); } catch { /* busy: left for the test's tmpdir */ }
  }

  finalize(uid) {
    const p = this.pods.get(uid);
    if (p) this.registry.finalizePod(p.ns, p.name, uid);
  }

  // PID 1 of the container's namespace (unshare's child): a signal to it is
  // what the runtime sends; when it dies the kernel ends the rest.
  killAll(p, sig) {
    for (const child of p.procs.values()) {
      let pid1 = null;
      try { pid1 = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || null; } catch { /* gone */ }
      try { process.kill(pid1 || child.pid, sig); } catch { /* gone */ }
    }
  }

  current(uid) {
    const p = this.pods.get(uid);
    const pod = p && this.store.get(POD, p.ns, p.name);
    return pod && pod.metadata.uid === uid ? pod : null;
  }

  // resolve(pod) → {env per container, volumes} or {missing: why, volume: bool}
  lookup(kind, ns, name, key, optional) {
    const obj = this.store.get(kind === 'secret' ? SECRET : CM, ns, name);
    const Kind = kind === 'secret' ? 'Secret' : 'ConfigMap';
    if (!obj) return optional ? { skip: true } : { missing: `${kind} "${name}" not found` };
    if (key === undefined) return { obj };
    const data = obj.data?.[key] ?? obj.binaryData?.[key];
    if (data === undefined) return optional ? { skip: true } : { missing: `couldn't find key ${key} in ${Kind} ${ns}/${name}` };
    return { value: kind === 'secret' ? Buffer.from(data, 'base64').toString() : String(data) };
  }

  containerEnv(pod, c) {
    const ns = pod.metadata.namespace;
    const vars = {};
    for (const from of c.envFrom || []) {
      const ref = from.secretRef || from.configMapRef;
      const r = this.lookup(from.secretRef ? 'secret' : 'configmap', ns, ref.name, undefined, ref.optional);
      if (r.missing) return r;
      for (const [k, v] of Object.entries(r.obj?.data || {}))
        vars[(from.prefix || '') + k] = from.secretRef ? Buffer.from(v, 'base64').toString() : v;
    }
    const fields = { 'metadata.name': pod.metadata.name, 'metadata.namespace': ns, 'metadata.uid': pod.metadata.uid,
      'spec.nodeName': pod.spec.nodeName, 'spec.serviceAccountName': pod.spec.serviceAccountName || 'default',
      'status.podIP': this.pods.get(pod.metadata.uid).ip, 'status.hostIP': '10.0.0.1' };
    for (const e of c.env || []) {
      const vf = e.valueFrom;
      if (!vf) { vars[e.name] = expand(e.value ?? '', vars); continue; }
      let r;
      if (vf.secretKeyRef) r = this.lookup('secret', ns, vf.secretKeyRef.name, vf.secretKeyRef.key, vf.secretKeyRef.optional);
      else if (vf.configMapKeyRef) r = this.lookup('configmap', ns, vf.configMapKeyRef.name, vf.configMapKeyRef.key, vf.configMapKeyRef.optional);
      else if (vf.fieldRef) r = { value: fields[vf.fieldRef.fieldPath] ?? '' };
      else r = { value: '' };
      if (r.missing) return r;
      if (!r.skip) vars[e.name] = r.value;
    }
    if (!('PATH' in vars)) vars.PATH = IMAGE_PATH;
    if (!('HOSTNAME' in vars)) vars.HOSTNAME = pod.metadata.name;
    return { vars };
  }

  // each volume as a directory; a missing Secret or ConfigMap → {missing}
  volumes(pod, p) {
    const ns = pod.metadata.namespace;
    const out = new Map();
    for (const v of pod.spec.volumes || []) {
      let dir = join(p.dir, 'volumes', v.name);
      const src = v.secret ? { kind: 'secret', name: v.secret.secretName, spec: v.secret }
        : v.configMap ? { kind: 'configmap', name: v.configMap.name, spec: v.configMap } : null;
      if (src) {
        const r = this.lookup(src.kind, ns, src.name, undefined, src.spec.optional);
        if (r.missing) return { missing: `MountVolume.SetUp failed for volume "${v.name}" : ${r.missing}`, volume: true };
        mkdirSync(dir, { recursive: true });
        const data = { ...(r.obj?.data || {}), ...(r.obj?.binaryData || {}) };
        const items = src.spec.items || Object.keys(data).map((key) => ({ key, path: key }));
        for (const it of items) {
          if (data[it.key] === undefined) continue;
          const binary = src.kind === 'secret' || r.obj?.binaryData?.[it.key] !== undefined;
          const file = join(dir, it.path);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, binary ? Buffer.from(data[it.key], 'base64') : data[it.key],
            { mode: it.mode ?? src.spec.defaultMode ?? 0o644 });
        }
      } else if (v.persistentVolumeClaim) {
        dir = join(this.root, '.claims', ns, v.persistentVolumeClaim.claimName);
        mkdirSync(dir, { recursive: true });
      } else if (v.emptyDir) {
        mkdirSync(dir, { recursive: true });
      } else {
        return { missing: `volume "${v.name}": only emptyDir, secret, configMap and persistentVolumeClaim run here`, volume: true };
      }
      out.set(v.name, dir);
    }
    return { dirs: out };
  }

  setWaiting(uid, reason, message) {
    const pod = this.current(uid);
    if (!pod) return;
    this.cluster.mutate(POD, pod.metadata.namespace, pod.metadata.name, (x) => {
      this.cluster.schedule(x);
      x.status.phase = 'Pending';
      x.status.conditions = [cond('PodReadyToStartContainers', 'True'), cond('Initialized', 'True'),
        cond('Ready', 'False', 'ContainersNotReady'), cond('ContainersReady', 'False', 'ContainersNotReady'), cond('PodScheduled', 'True')];
      x.status.containerStatuses = x.spec.containers.map((c) => ({ name: c.name,
        state: { waiting: { reason, ...(message ? { message } : {}) } }, lastState: {}, ready: false, restartCount: 0,
        image: c.image, imageID: '', started: false }));
    });
  }

  sync(uid) {
    const p = this.pods.get(uid);
    const pod = this.current(uid);
    if (!p || !pod || p.stopping || p.procs.size || isTerminal(pod)) return;
    const retry = (reason, message, eventReason) => {
      if (!p.warned.has(message)) {
        p.warned.add(message);
        this.setWaiting(uid, reason, reason === 'ContainerCreating' ? undefined : message);
        this.cluster.event(this.current(uid), 'Warning', eventReason, message, 'kubelet');
      }
      p.timer = setTimeout(() => this.sync(uid), RETRY_MS);
    };
    if (!pod.spec.nodeName) {
      this.cluster.mutate(POD, p.ns, p.name, (x) => this.cluster.schedule(x));
      this.cluster.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${p.ns}/${p.name} to double-node`, 'default-scheduler');
      this.setWaiting(uid, 'ContainerCreating');
    }
    const vols = this.volumes(pod, p);
    if (vols.missing) return retry('ContainerCreating', vols.missing, 'FailedMount');
    const envs = [];
    for (const c of pod.spec.containers) {
      const e = this.containerEnv(pod, c);
      if (e.missing) return retry('CreateContainerConfigError', e.missing, 'Failed');
      envs.push(e.vars);
    }
    pod.spec.containers.forEach((c, i) => this.start(uid, pod, c, envs[i], vols.dirs));
    this.cluster.run(p.ns, p.name, { podIP: p.ip });
  }

  start(uid, pod, c, env, dirs) {
    const p = this.pods.get(uid);
    const ports = new Set((c.ports || []).map((x) => String(x.containerPort)));
    const argv = [...(c.command || []), ...(c.args || [])].map((a) => {
      const s = expand(a, env);
      const m = /^(?:0\.0\.0\.0)?:(\d+)$/.exec(s);
      return m && ports.has(m[1]) ? `${p.ip}:${m[1]}` : s;
    });
    const mounts = [];
    for (const m of [...(c.volumeMounts || [])].sort((a, b) => a.mountPath.length - b.mountPath.length)) {
      const src = dirs.get(m.name);
      if (!src) continue;
      // a subPath the volume lacks is made, as the kubelet does (a PVC's
      // per-agent directory on first use)
      const from = m.subPath ? join(src, m.subPath) : src;
      if (m.subPath) mkdirSync(from, { recursive: true });
      mounts.push(from, m.mountPath, m.readOnly ? 'ro' : 'rw');
    }
    const dir = join(p.dir, 'containers', c.name);
    mkdirSync(dir, { recursive: true });
    const ro = c.securityContext?.readOnlyRootFilesystem ? '1' : '0';
    const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', '/usr/bin/unshare', '--mount', '--pid', '--uts', '--fork',
      '--kill-child=KILL', '--propagation', 'private', '--', '/bin/sh', SANDBOX, dir, this.bin, c.workingDir || '/', ro,
      pod.metadata.name, String(mounts.length / 3), ...mounts, '--', ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    p.procs.set(c.name, child);
    const partial = { out: '', err: '' };
    const take = (which) => (chunk) => {
      const text = partial[which] + chunk.toString();
      const cut = text.lastIndexOf('\n');
      partial[which] = text.slice(cut + 1);
      const cur = this.current(uid);
      if (cut >= 0 && cur) this.cluster.appendLog(cur, c.name, text.slice(0, cut + 1));
    };
    child.stdout.on('data', take('out'));
    child.stderr.on('data', take('err'));
    let spawnError = null;
    child.on('error', (e) => { spawnError = e; });
    child.on('close', (code, signal) => this.exited(uid, c.name, spawnError ? 128 : (code ?? 128 + (constants.signals[signal] || 0)), partial));
  }

  exited(uid, container, code, partial) {
    const p = this.pods.get(uid);
    if (!p) return;
    p.procs.delete(container);
    const pod = this.current(uid);
    if (pod) {
      const rest = partial.out + (partial.out && !partial.out.endsWith('\n') ? '\n' : '') + partial.err;
      if (rest) this.cluster.appendLog(pod, container, rest);
      if (!isTerminal(pod)) this.cluster.exit(p.ns, p.name, code, container);
    }
    if (p.procs.size) return;
    clearTimeout(p.graceTimer);
    if (p.gone) this.forget(uid);
    else if (p.stopping) { this.finalize(uid); this.forget(uid); }
  }
}
