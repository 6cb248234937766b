// controllers.mjs — what the cluster does on its own, simulated: the Job
// controller (one pod per Job, `<job>-<5 chars>`, labels and controller
// ownerReference like the real one; status counts and Complete/Failed
// conditions from the pod's phase; backoffLimit, activeDeadlineSeconds,
// ttlSecondsAfterFinished), a kubelet that runs nothing but moves pods through
// their states when the test says so (or on its own with autoRun), the
// service-account controller's `default` account, events, and container logs.

import { randomBytes } from 'node:crypto';
import { clone, nowStamp, nowMicro } from './util.mjs';
import { defByKind } from './resources.mjs';
import { randSuffix } from './registry.mjs';

const POD = defByKind('Pod');
const JOB = defByKind('Job');
const EVENT = defByKind('Event');
const SA = defByKind('ServiceAccount');
const NS = defByKind('Namespace');

const controllerRef = (o) => (o.metadata.ownerReferences || []).find((r) => r.controller);
const cond = (type, status, reason, message) => {
  const c = { type, status, lastProbeTime: nowStamp(), lastTransitionTime: nowStamp() };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
};
const isTerminal = (p) => ['Succeeded', 'Failed'].includes(p.status?.phase);
const jobFinished = (j) => (j.status?.conditions || []).some((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True');

export class Cluster {
  constructor(store, registry, opts) {
    this.store = store;
    this.registry = registry;
    this.opts = opts; // autoRun, autoRunMs
    this.logs = new Map(); // pod uid -> Map(container -> [{ts, line}])
    this.followers = new Map(); // pod uid -> Set(fn(event))
    this.counted = new Map(); // job uid -> Set(pod uid) already in succeeded/failed
    this.timers = new Map(); // job uid -> [timeouts]
    this.nextIP = 1;
    store.hooks.push((type, def, obj, old) => this.onChange(type, def, obj, old));
  }

  onChange(type, def, obj, old) {
    if (def === NS && type === 'ADDED') setImmediate(() => this.ensureDefaultSA(obj.metadata.name));
    if (def === JOB && type === 'ADDED') setImmediate(() => this.syncJob(obj.metadata.namespace, obj.metadata.name));
    if (def === JOB && type === 'DELETED') this.clearTimers(obj.metadata.uid);
    if (def === POD) {
      if (type === 'ADDED' && this.opts.autoRun) setTimeout(() => this.autoRun(obj), this.opts.autoRunMs);
      if (type === 'DELETED') {
        this.endFollowers(obj.metadata.uid);
        this.logs.delete(obj.metadata.uid);
        this.podGone(obj);
      }
      const ref = controllerRef(obj);
      if (ref?.kind === 'Job' && type !== 'ADDED') setImmediate(() => this.syncJob(obj.metadata.namespace, ref.name));
    }
  }

  ensureDefaultSA(ns) {
    if (!this.store.get(NS, '', ns) || this.store.get(SA, ns, 'default')) return;
    try { this.registry.create(SA, ns, { metadata: { name: 'default' } }); } catch { /* namespace going away */ }
  }

  // mutate(def, ns, name, fn) — an internal write that skips validation, as
  // controllers and kubelets write through their own (privileged) paths
  mutate(def, ns, name, fn) {
    const cur = this.store.get(def, ns, name);
    if (!cur) return null;
    const next = clone(cur);
    fn(next);
    return this.store.replace(def, next);
  }

  event(obj, type, reason, message, component) {
    const md = obj.metadata;
    const now = nowStamp();
    try {
      this.registry.create(EVENT, md.namespace, {
        metadata: { name: `${md.name}.${randomBytes(8).toString('hex')}` },
        involvedObject: { kind: obj.kind, namespace: md.namespace, name: md.name, uid: md.uid,
          apiVersion: obj.apiVersion, resourceVersion: md.resourceVersion },
        reason, message, source: { component }, firstTimestamp: now, lastTimestamp: now, count: 1, type,
        eventTime: null, reportingComponent: component, reportingInstance: '',
      });
    } catch { /* the namespace is going away */ }
  }

  // ---- the Job controller ---------------------------------------------------

  clearTimers(uid) {
    for (const t of this.timers.get(uid) || []) clearTimeout(t);
    this.timers.delete(uid);
    this.counted.delete(uid);
  }

  addTimer(uid, ms, fn) {
    const t = setTimeout(fn, ms);
    if (!this.timers.has(uid)) this.timers.set(uid, []);
    this.timers.get(uid).push(t);
  }

  jobPods(job) {
    return this.store.list(POD, job.metadata.namespace).filter((p) => controllerRef(p)?.uid === job.metadata.uid);
  }

  // a job's pod vanished before finishing: it counts as failed
  podGone(pod) {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'Job' || isTerminal(pod)) return;
    const job = this.store.get(JOB, pod.metadata.namespace, ref.name);
    if (!job || job.metadata.uid !== ref.uid || job.metadata.deletionTimestamp || jobFinished(job)) return;
    const seen = this.counted.get(job.metadata.uid) || new Set();
    if (seen.has(pod.metadata.uid)) return;
    seen.add(pod.metadata.uid);
    this.counted.set(job.metadata.uid, seen);
    this.mutate(JOB, job.metadata.namespace, job.metadata.name, (j) => { j.status.failed = (j.status.failed || 0) + 1; });
  }

  syncJob(ns, name) {
    const job = this.store.get(JOB, ns, name);
    if (!job || job.metadata.deletionTimestamp || jobFinished(job)) return;
    const uid = job.metadata.uid;
    const spec = job.spec;
    const first = !job.status?.startTime;
    const seen = this.counted.get(uid) || new Set();
    this.counted.set(uid, seen);
    const pods = this.jobPods(job);
    const st = clone(job.status || {});
    if (first) {
      st.startTime = nowStamp();
      if (spec.activeDeadlineSeconds) this.addTimer(uid, spec.activeDeadlineSeconds * 1000, () => this.deadline(ns, name, uid));
    }
    for (const p of pods) {
      if (!isTerminal(p) || seen.has(p.metadata.uid)) continue;
      seen.add(p.metadata.uid);
      if (p.status.phase === 'Succeeded') st.succeeded = (st.succeeded || 0) + 1;
      else st.failed = (st.failed || 0) + 1;
    }
    let active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
    const completions = spec.completions ?? 1;
    let finished = null;
    if ((st.succeeded || 0) >= completions) {
      finished = 'Complete';
      st.conditions = [...(st.conditions || []),
        cond('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        cond('Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods')];
    } else if ((st.failed || 0) > spec.backoffLimit) {
      finished = 'Failed';
      st.conditions = [...(st.conditions || []),
        cond('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        cond('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')];
    }
    const leftover = finished ? active : [];
    if (finished) {
      active = [];
      if (finished === 'Complete') st.completionTime = nowStamp();
    } else {
      const want = Math.min(spec.parallelism ?? 1, completions - (st.succeeded || 0)) - active.length;
      for (let i = 0; i < want; i++) {
        const p = this.createJobPod(job);
        if (p) active.push(p); else if (!this.retryPending?.has(uid)) this.retryCreate(ns, name, uid);
      }
    }
    st.active = active.length || undefined;
    st.ready = active.filter((p) => (p.status?.conditions || []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
    st.terminating = 0;
    for (const k of Object.keys(st)) if (st[k] === undefined) delete st[k];
    if (JSON.stringify(st) !== JSON.stringify(job.status)) this.mutate(JOB, ns, name, (j) => { j.status = st; });
    // after the status says finished, so their going is not counted as failures
    for (const p of leftover) this.registry.delete(POD, ns, p.metadata.name, { propagationPolicy: 'Background' });
    if (finished) {
      this.event(job, finished === 'Complete' ? 'Normal' : 'Warning', finished === 'Complete' ? 'Completed' : 'BackoffLimitExceeded',
        finished === 'Complete' ? 'Job completed' : 'Job has reached the specified backoff limit', 'job-controller');
      if (spec.ttlSecondsAfterFinished !== undefined) {
        this.addTimer(uid, spec.ttlSecondsAfterFinished * 1000, () => {
          const j = this.store.get(JOB, ns, name);
          if (j && j.metadata.uid === uid) this.registry.delete(JOB, ns, name, { propagationPolicy: 'Background' });
        });
      }
    }
  }

  retryCreate(ns, name, uid) {
    this.retryPending ??= new Set();
    this.retryPending.add(uid);
    this.addTimer(uid, 1000, () => { this.retryPending.delete(uid); this.syncJob(ns, name); });
  }

  createJobPod(job) {
    const tpl = job.spec.template;
    const name = `${job.metadata.name}-${randSuffix()}`;
    const body = {
      metadata: {
        name, labels: clone(tpl.metadata?.labels || {}),
        ...(tpl.metadata?.annotations ? { annotations: clone(tpl.metadata.annotations) } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid,
          controller: true, blockOwnerDeletion: true }],
      },
      spec: clone(tpl.spec),
    };
    try {
      const p = this.registry.create(POD, job.metadata.namespace, body);
      this.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'job-controller');
      return p;
    } catch (e) {
      this.event(job, 'Warning', 'FailedCreate', `Error creating: ${e.message}`, 'job-controller');
      return null;
    }
  }

  deadline(ns, name, uid) {
    const job = this.store.get(JOB, ns, name);
    if (!job || job.metadata.uid !== uid || jobFinished(job)) return;
    const active = this.jobPods(job).filter((p) => !isTerminal(p));
    this.mutate(JOB, ns, name, (j) => {
      j.status.failed = (j.status.failed || 0) + active.length;
      delete j.status.active;
      j.status.conditions = [...(j.status.conditions || []),
        cond('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
        cond('Failed', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline')];
    });
    for (const p of active) this.registry.delete(POD, ns, p.metadata.name, { propagationPolicy: 'Background' });
    this.event(job, 'Warning', 'DeadlineExceeded', 'Job was active longer than specified deadline', 'job-controller');
  }

  // ---- the kubelet ------------------------------------------------------------

  autoRun(pod) {
    const cur = this.store.get(POD, pod.metadata.namespace, pod.metadata.name);
    if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.status.phase !== 'Pending') return;
    if ((cur.status.containerStatuses || []).some((c) => c.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating')) return;
    this.run(pod.metadata.namespace, pod.metadata.name, {});
  }

  schedule(p) {
    if (p.spec.nodeName) return;
    p.spec.nodeName = 'double-node';
    p.status.conditions = [cond('PodScheduled', 'True')];
  }

  run(ns, name, { podIP } = {}) {
    const res = this.mutate(POD, ns, name, (p) => {
      this.schedule(p);
      const now = nowStamp();
      p.status.phase = 'Running';
      p.status.hostIP = '10.0.0.1';
      p.status.hostIPs = [{ ip: '10.0.0.1' }];
      p.status.podIP = podIP || p.status.podIP || `10.244.${Math.floor(this.nextIP / 250)}.${(this.nextIP++ % 250) + 2}`;
      p.status.podIPs = [{ ip: p.status.podIP }];
      p.status.startTime ??= now;
      p.status.conditions = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']
        .map((t) => cond(t, 'True'));
      p.status.containerStatuses = p.spec.containers.map((c) => ({
        name: c.name, state: { running: { startedAt: now } }, lastState: {}, ready: true, restartCount: 0,
        image: c.image, imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
        containerID: `containerd://${randomBytes(32).toString('hex')}`, started: true,
      }));
    });
    if (res) this.event(res, 'Normal', 'Started', 'Started container', 'kubelet');
    return res;
  }

  exit(ns, name, code, container, { reason, message } = {}) {
    const res = this.mutate(POD, ns, name, (p) => {
      if (!p.status.containerStatuses) {
        this.schedule(p);
        p.status.startTime ??= nowStamp();
        p.status.containerStatuses = p.spec.containers.map((c) => ({ name: c.name, state: { running: { startedAt: nowStamp() } },
          lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', containerID: `containerd://${randomBytes(32).toString('hex')}`, started: true }));
      }
      const now = nowStamp();
      for (const cs of p.status.containerStatuses) {
        if (container && cs.name !== container) continue;
        cs.state = { terminated: { exitCode: code, reason: reason || (code === 0 ? 'Completed' : 'Error'),
          ...(message ? { message } : {}), startedAt: cs.state.running?.startedAt || now, finishedAt: now, containerID: cs.containerID } };
        cs.ready = false;
        cs.started = false;
      }
      const all = p.status.containerStatuses.every((cs) => cs.state.terminated);
      if (all) {
        const ok = p.status.containerStatuses.every((cs) => cs.state.terminated.exitCode === 0);
        p.status.phase = ok ? 'Succeeded' : 'Failed';
        p.status.conditions = (p.status.conditions || []).map((c) => (['Ready', 'ContainersReady'].includes(c.type)
          ? cond(c.type, 'False', 'PodCompleted') : (c.type === 'PodReadyToStartContainers' ? cond(c.type, 'False') : c)));
      }
    });
    if (res) this.endFollowers(res.metadata.uid, container);
    return res;
  }

  waiting(ns, name, reason, message, container) {
    const res = this.mutate(POD, ns, name, (p) => {
      this.schedule(p);
      p.status.phase = 'Pending';
      p.status.containerStatuses = p.spec.containers.map((c) => {
        const prev = (p.status.containerStatuses || []).find((cs) => cs.name === c.name);
        if (container && c.name !== container && prev) return prev;
        return { name: c.name, state: { waiting: { reason, ...(message ? { message } : {}) } }, lastState: {},
          ready: false, restartCount: 0, image: c.image, imageID: '', started: false };
      });
      p.status.conditions = [cond('PodScheduled', 'True'), cond('Ready', 'False', 'ContainersNotReady', `containers with unready status: [${p.spec.containers.map((c) => c.name).join(' ')}]`)];
    });
    if (res) {
      const pull = /Image|ErrImage/.test(reason);
      this.event(res, 'Warning', pull ? 'Failed' : reason, message || `Error: ${reason}`, 'kubelet');
    }
    return res;
  }

  unschedulable(ns, name, message) {
    const msg = message || '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
    const res = this.mutate(POD, ns, name, (p) => {
      p.status.phase = 'Pending';
      p.status.conditions = [cond('PodScheduled', 'False', 'Unschedulable', msg)];
    });
    if (res) this.event(res, 'Warning', 'FailedScheduling', msg, 'default-scheduler');
    return res;
  }

  // ---- logs --------------------------------------------------------------------

  appendLog(pod, container, text) {
    const c = container || pod.spec.containers[0].name;
    if (!this.logs.has(pod.metadata.uid)) this.logs.set(pod.metadata.uid, new Map());
    const byC = this.logs.get(pod.metadata.uid);
    if (!byC.has(c)) byC.set(c, []);
    const lines = String(text).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const ts = nowMicro();
    const added = lines.map((line) => ({ ts, line }));
    byC.get(c).push(...added);
    for (const f of this.followers.get(pod.metadata.uid) || []) f({ container: c, lines: added });
    return added.length;
  }

  logLines(pod, container) {
    return this.logs.get(pod.metadata.uid)?.get(container) || [];
  }

  follow(uid, fn) {
    if (!this.followers.has(uid)) this.followers.set(uid, new Set());
    this.followers.get(uid).add(fn);
    return () => this.followers.get(uid)?.delete(fn);
  }

  endFollowers(uid, container) {
    for (const f of this.followers.get(uid) || []) f({ container, end: true });
  }
}
