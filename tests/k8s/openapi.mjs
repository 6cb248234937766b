// openapi.mjs — the smallest /openapi/v3 documents that tell kubectl the
// double validates fields on the server (each resource's PATCH operation lists
// the fieldValidation parameter and carries x-kubernetes-group-version-kind),
// so `kubectl create -f` works with its default --validate=strict, sending
// fieldValidation=Strict instead of downloading schemas. No schemas are served.

import { RESOURCES } from './resources.mjs';

const gvPath = (d) => (d.group ? `apis/${d.group}/${d.version}` : `api/${d.version}`);
const HASH = 'D0UBLE0000000000000000000000000000000000000000000000000000000000';

export function openapiRoot() {
  const paths = {};
  for (const d of RESOURCES) paths[gvPath(d)] = { serverRelativeURL: `/openapi/v3/${gvPath(d)}?hash=${HASH}` };
  return { paths };
}

export function openapiGroupVersion(gv) {
  const defs = RESOURCES.filter((d) => gvPath(d) === gv);
  if (!defs.length) return null;
  const param = (name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  const paths = {};
  for (const d of defs) {
    const base = `/${gv}${d.namespaced ? '/namespaces/{namespace}' : ''}/${d.plural}`;
    const gvk = { group: d.group, version: d.version, kind: d.kind };
    const op = (action, verb) => ({
      tags: [`${d.group || 'core'}_${d.version}`], operationId: `${verb}${d.kind}`,
      parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
      responses: { 200: { description: 'OK' } },
      'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk,
    });
    paths[base] = { post: op('post', 'create'), parameters: [param('pretty')] };
    paths[`${base}/{name}`] = { put: op('put', 'replace'), patch: op('patch', 'patch'), parameters: [param('pretty')] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas: {} } };
}
