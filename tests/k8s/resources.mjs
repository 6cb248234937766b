// resources.mjs — the resource types the Kubernetes API double serves: their
// discovery entries, the defaulting and validation the real registry applies
// on write (only what fracta and kubectl can observe), and the server-side
// Table columns kubectl prints.

import {
  invalid, badRequest, humanAge, subdomainError, labelNameError, labelValueError,
  qualifiedNameError, selectorString,
} from './util.mjs';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES = [
  { group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: { status: ['get', 'patch', 'update'], finalize: ['update'] } },
  { group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true,
    shortNames: ['cm'], verbs: ALL_VERBS, subresources: {} },
  { group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true,
    verbs: ALL_VERBS, subresources: {} },
  { group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true,
    shortNames: ['po'], categories: ['all'], verbs: ALL_VERBS,
    subresources: { log: ['get'], proxy: ['create', 'delete', 'get', 'patch', 'update'], status: ['get', 'patch', 'update'] },
    fields: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
      'status.phase', 'status.podIP', 'status.nominatedNodeName'] },
  { group: '', version: 'v1', plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount',
    namespaced: true, shortNames: ['sa'], verbs: ALL_VERBS, subresources: {} },
  { group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', namespaced: true,
    shortNames: ['ev'], verbs: ALL_VERBS, subresources: {},
    fields: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
      'reportingComponent', 'source', 'type'] },
  { group: 'batch', version: 'v1', plural: 'jobs', singular: 'job', kind: 'Job', namespaced: true,
    categories: ['all'], verbs: ALL_VERBS, subresources: { status: ['get', 'patch', 'update'] },
    fields: ['status.successful'] },
];
for (const d of RESOURCES) {
  d.apiVersion = d.group ? `${d.group}/${d.version}` : d.version;
  d.fieldSelectors = ['metadata.name', 'metadata.namespace', ...(d.fields || [])];
}

export const byGroupVersion = (group, version) => RESOURCES.filter((d) => d.group === group && d.version === version);
export const findDef = (group, version, plural) =>
  RESOURCES.find((d) => d.group === group && d.version === version && d.plural === plural);
export const defByKind = (kind) => RESOURCES.find((d) => d.kind === kind);

export function apiResourceList(group, version) {
  const resources = [];
  for (const d of byGroupVersion(group, version)) {
    const r = { name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: d.verbs };
    if (d.shortNames) r.shortNames = d.shortNames;
    if (d.categories) r.categories = d.categories;
    resources.push(r);
    for (const [sub, verbs] of Object.entries(d.subresources)) {
      resources.push({ name: `${d.plural}/${sub}`, singularName: '', namespaced: d.namespaced,
        kind: sub === 'log' || sub === 'proxy' ? (sub === 'proxy' ? 'PodProxyOptions' : 'Pod') : d.kind, verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

// ---- defaulting --------------------------------------------------------------

function defaultPodSpec(spec) {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.serviceAccountName ??= spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
    const image = c.image || '';
    const tagged = /:[^/]+$/.test(image) || image.includes('@');
    c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const p of c.ports || []) p.protocol ??= 'TCP';
  }
  return spec;
}

export function applyDefaults(def, obj) {
  const md = obj.metadata;
  switch (def.kind) {
    case 'Namespace':
      md.labels = { ...(md.labels || {}), 'kubernetes.io/metadata.name': md.name };
      obj.spec ??= {};
      obj.spec.finalizers ??= ['kubernetes'];
      obj.status = { phase: 'Active' };
      break;
    case 'Secret':
      obj.type ??= 'Opaque';
      if (obj.stringData) {
        obj.data = { ...(obj.data || {}) };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
        delete obj.stringData;
      }
      break;
    case 'Pod':
      obj.spec = defaultPodSpec(obj.spec || {});
      obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
      break;
    case 'Job': {
      const s = (obj.spec ??= {});
      s.parallelism ??= 1;
      s.completions ??= 1;
      s.backoffLimit ??= 6;
      s.completionMode ??= 'NonIndexed';
      s.suspend ??= false;
      s.podReplacementPolicy ??= 'TerminatingOrFailed';
      s.manualSelector ??= undefined;
      const uid = md.uid;
      const ctrl = { 'batch.kubernetes.io/controller-uid': uid };
      if (!s.manualSelector) s.selector = { matchLabels: ctrl };
      s.template ??= {};
      s.template.metadata ??= {};
      s.template.metadata.labels = {
        ...(s.template.metadata.labels || {}), ...ctrl, 'batch.kubernetes.io/job-name': md.name,
        'controller-uid': uid, 'job-name': md.name,
      };
      defaultPodSpec((s.template.spec ??= {}));
      obj.status = {};
      md.generation = 1;
      break;
    }
    default:
  }
  return obj;
}

function qosClass(spec) {
  const cs = spec.containers || [];
  const any = cs.some((c) => Object.keys(c.resources?.requests || {}).length || Object.keys(c.resources?.limits || {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] &&
    (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

// ---- validation -----------------------------------------------------------------

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG = `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`;
const MAX_DATA = 1048576;

function metaErrors(def, obj, errs) {
  const md = obj.metadata;
  const name = md.name;
  if (!name) errs.push(['metadata.name', 'Required value: name or generateName is required', 'FieldValueRequired']);
  else {
    const e = def.kind === 'Namespace' ? labelNameError(name) : subdomainError(name);
    if (e) errs.push(['metadata.name', `Invalid value: "${name}": ${e}`]);
    else if (def.kind === 'Job' && name.length > 63) errs.push(['metadata.name', `Invalid value: "${name}": must be no more than 63 characters`]);
  }
  for (const [k, v] of Object.entries(md.labels || {})) {
    const ke = qualifiedNameError(k);
    if (ke) errs.push(['metadata.labels', `Invalid value: "${k}": ${ke}`]);
    const ve = labelValueError(v);
    if (ve) errs.push(['metadata.labels', `Invalid value: "${v}": ${ve}`]);
  }
  for (const k of Object.keys(md.annotations || {})) {
    const ke = qualifiedNameError(k.toLowerCase());
    if (ke) errs.push(['metadata.annotations', `Invalid value: "${k}": ${ke}`]);
  }
  for (const [i, r] of (md.ownerReferences || []).entries()) {
    for (const f of ['apiVersion', 'kind', 'name', 'uid'])
      if (!r[f]) errs.push([`metadata.ownerReferences[${i}].${f}`, 'Invalid value: "": ' + (f === 'uid' ? 'uid must not be empty' : `${f} must not be empty`)]);
  }
  if ((md.ownerReferences || []).filter((r) => r.controller).length > 1)
    errs.push(['metadata.ownerReferences', 'Invalid value: []: Only one reference can have Controller set to true']);
}

function podSpecErrors(spec, path, errs, inJob) {
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    errs.push([`${path}.containers`, 'Required value', 'FieldValueRequired']);
    return;
  }
  const seen = new Set();
  spec.containers.forEach((c, i) => {
    const p = `${path}.containers[${i}]`;
    if (!c.name) errs.push([`${p}.name`, 'Required value', 'FieldValueRequired']);
    else {
      const e = labelNameError(c.name);
      if (e) errs.push([`${p}.name`, `Invalid value: "${c.name}": ${e}`]);
      if (seen.has(c.name)) errs.push([`${p}.name`, `Duplicate value: "${c.name}"`, 'FieldValueDuplicate']);
      seen.add(c.name);
    }
    if (!c.image) errs.push([`${p}.image`, 'Required value', 'FieldValueRequired']);
    for (const [j, env] of (c.env || []).entries())
      if (!env.name) errs.push([`${p}.env[${j}].name`, 'Required value', 'FieldValueRequired']);
  });
  const rp = spec.restartPolicy;
  if (inJob && rp !== 'Never' && rp !== 'OnFailure')
    errs.push([`${path}.restartPolicy`, `Required value: valid values: "OnFailure", "Never"`, 'FieldValueRequired']);
  else if (!['Always', 'OnFailure', 'Never'].includes(rp))
    errs.push([`${path}.restartPolicy`, `Unsupported value: "${rp}": supported values: "Always", "OnFailure", "Never"`, 'FieldValueNotSupported']);
}

function dataSize(obj) {
  let n = 0;
  for (const v of Object.values(obj.data || {})) n += Buffer.byteLength(String(v));
  for (const v of Object.values(obj.binaryData || {})) n += Buffer.from(String(v), 'base64').length;
  return n;
}

// validate(def, obj) — after defaulting; throws the API's 422 (or 400 for bad base64)
export function validate(def, obj) {
  const errs = [];
  metaErrors(def, obj, errs);
  switch (def.kind) {
    case 'ConfigMap':
    case 'Secret':
      for (const field of ['data', 'binaryData']) {
        for (const k of Object.keys(obj[field] || {})) {
          if (!CONFIG_KEY.test(k) || k.length > 253) errs.push([`${field}[${k}]`, `Invalid value: "${k}": ${CONFIG_KEY_MSG}`]);
        }
      }
      if (def.kind === 'Secret') {
        for (const [k, v] of Object.entries(obj.data || {})) {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1)
            throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[${k}])`);
        }
        if (dataSize(obj) > MAX_DATA) errs.push(['data', `Too long: must have at most ${MAX_DATA} bytes`, 'FieldValueTooLong']);
      } else if (dataSize(obj) > MAX_DATA) {
        errs.push(['[]', `Too long: must have at most ${MAX_DATA} bytes`, 'FieldValueTooLong']);
      }
      break;
    case 'Pod':
      podSpecErrors(obj.spec, 'spec', errs, false);
      break;
    case 'Job': {
      const s = obj.spec;
      podSpecErrors(s.template?.spec, 'spec.template.spec', errs, true);
      if (s.backoffLimit < 0) errs.push(['spec.backoffLimit', `Invalid value: ${s.backoffLimit}: must be greater than or equal to 0`]);
      if (s.activeDeadlineSeconds !== undefined && !(s.activeDeadlineSeconds > 0))
        errs.push(['spec.activeDeadlineSeconds', `Invalid value: ${s.activeDeadlineSeconds}: must be greater than 0`]);
      if (s.ttlSecondsAfterFinished !== undefined && s.ttlSecondsAfterFinished < 0)
        errs.push(['spec.ttlSecondsAfterFinished', `Invalid value: ${s.ttlSecondsAfterFinished}: must be greater than or equal to 0`]);
      break;
    }
    default:
  }
  if (errs.length) throw invalid(def, obj.metadata.name || '', errs);
}

// fieldValidation=Strict: the top-level fields each kind has (unknown ones are
// what a typo in a manifest produces)
const KNOWN_TOP = {
  Namespace: ['spec', 'status'], ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'], Pod: ['spec', 'status'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type',
    'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  Job: ['spec', 'status'],
};
const KNOWN_META = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation',
  'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
  'ownerReferences', 'finalizers', 'managedFields'];

export function unknownFields(def, obj) {
  const out = [];
  for (const k of Object.keys(obj)) if (!['apiVersion', 'kind', 'metadata', ...KNOWN_TOP[def.kind]].includes(k)) out.push(k);
  for (const k of Object.keys(obj.metadata || {})) if (!KNOWN_META.includes(k)) out.push(`metadata.${k}`);
  return out;
}

// ---- tables -----------------------------------------------------------------------

const col = (name, type, description, priority = 0, format = '') => ({ name, type, format, description, priority });
const NAME_COL = col('Name', 'string', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', 0, 'name');
const AGE_COL = col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

export function podStatusReason(p) {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  let reason = p.status?.reason || p.status?.phase || 'Unknown';
  for (const cs of p.status?.containerStatuses || []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated) reason = cs.state.terminated.reason || (cs.state.terminated.exitCode ? 'Error' : 'Completed');
  }
  const sched = (p.status?.conditions || []).find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') reason = 'Pending';
  return reason;
}

function jobStatusCell(j) {
  const conds = (j.status?.conditions || []).filter((c) => c.status === 'True').map((c) => c.type);
  if (j.metadata.deletionTimestamp) return 'Terminating';
  for (const t of ['Complete', 'Failed', 'FailureTarget', 'SuccessCriteriaMet', 'Suspended']) {
    if (conds.includes(t)) return t === 'FailureTarget' ? 'Failing' : t;
  }
  return 'Running';
}

function duration(a, b) {
  if (!a) return '';
  const s = Math.max(0, Math.floor(((b ? Date.parse(b) : Date.now()) - Date.parse(a)) / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}

const TABLES = {
  Pod: {
    columns: [NAME_COL, col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE_COL, col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', "NodeName is a request to schedule this pod onto a specific node.", 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1)],
    cells: (p) => {
      const cs = p.status?.containerStatuses || [];
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((n, c) => n + (c.restartCount || 0), 0);
      return [p.metadata.name, `${ready}/${(p.spec?.containers || []).length}`, podStatusReason(p), restarts,
        humanAge(p.metadata.creationTimestamp), p.status?.podIP || '<none>', p.spec?.nodeName || '<none>', '<none>', '<none>'];
    },
  },
  ConfigMap: {
    columns: [NAME_COL, col('Data', 'integer', 'Data contains the configuration data.'), AGE_COL],
    cells: (o) => [o.metadata.name, Object.keys(o.data || {}).length + Object.keys(o.binaryData || {}).length, humanAge(o.metadata.creationTimestamp)],
  },
  Secret: {
    columns: [NAME_COL, col('Type', 'string', 'The type of the secret'), col('Data', 'integer', 'The number of data entries'), AGE_COL],
    cells: (o) => [o.metadata.name, o.type, Object.keys(o.data || {}).length, humanAge(o.metadata.creationTimestamp)],
  },
  Namespace: {
    columns: [NAME_COL, col('Status', 'string', 'The status of the namespace'), AGE_COL],
    cells: (o) => [o.metadata.name, o.status?.phase || 'Active', humanAge(o.metadata.creationTimestamp)],
  },
  ServiceAccount: {
    columns: [NAME_COL, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COL],
    cells: (o) => [o.metadata.name, (o.secrets || []).length, humanAge(o.metadata.creationTimestamp)],
  },
  Event: {
    columns: [col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
      col('Object', 'string', 'The object that this event is about.'),
      col('Message', 'string', 'A human-readable description of the status of this operation.')],
    cells: (o) => [humanAge(o.lastTimestamp || o.metadata.creationTimestamp), o.type, o.reason,
      `${(o.involvedObject?.kind || '').toLowerCase()}/${o.involvedObject?.name}`, o.message],
  },
  Job: {
    columns: [NAME_COL, col('Status', 'string', 'Status of the job.'),
      col('Completions', 'string', 'The completion status of the job.'),
      col('Duration', 'string', 'Time required to complete the job.'), AGE_COL,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Selector that selects the pods of the job.', 1)],
    cells: (j) => {
      const cs = j.spec?.template?.spec?.containers || [];
      return [j.metadata.name, jobStatusCell(j), `${j.status?.succeeded || 0}/${j.spec?.completions ?? 1}`,
        duration(j.status?.startTime, j.status?.completionTime), humanAge(j.metadata.creationTimestamp),
        cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), selectorString(j.spec?.selector)];
    },
  },
};

// toTable(def, objs, includeObject, withColumns) — a meta.k8s.io/v1 Table
export function toTable(def, objs, listRV, includeObject = 'Metadata', withColumns = true) {
  const t = TABLES[def.kind];
  const rows = objs.map((o) => {
    const row = { cells: t.cells(o) };
    if (includeObject === 'Object') row.object = { kind: def.kind, apiVersion: def.apiVersion, ...o };
    else if (includeObject !== 'None') {
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    }
    return row;
  });
  const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: listRV } };
  if (withColumns) table.columnDefinitions = t.columns;
  table.rows = rows;
  return table;
}
