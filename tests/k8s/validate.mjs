#!/usr/bin/env node
// validate.mjs — check Kubernetes objects against the Kubernetes OpenAPI
// schemas, offline, strictly.
//
//   node tests/k8s/validate.mjs [--json] FILE…   (YAML streams or JSON; "-" or none: stdin)
//
// Each object (v1 List items one by one) is validated against the schema of
// its apiVersion/kind, using the validators kubernetes-models generates from
// the upstream OpenAPI document (types, enums, required fields, formats).
// Those validators accept unknown fields, as the upstream schemas do (they
// never set additionalProperties: false), while the API server drops or
// rejects them — so unknown fields are found here too: the object is
// validated through a Proxy that records which properties the schema looks
// at. A field of an object whose schema lists properties, that the validator
// never looked at, is not in the schema. Objects whose schema is a map
// (additionalProperties: labels, data, …) enumerate their keys and are left
// alone; free-form objects (no properties at all) too.
//
// One line per error, `FILE: KIND/NAME: /json/pointer: message`; exit 1 if
// there was any (or no object at all), else print `ok: N objects` and exit 0.
// With --json the errors go to stderr, and stdout gets every object (List
// items in place of their List) as one JSON array, for jq.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const modelsRoot = path.dirname(require.resolve("kubernetes-models/package.json"));

const validators = new Map();

// apiVersion "apps/v1", kind "Deployment" → the generated schema validator.
async function validatorFor(apiVersion, kind) {
  const id = `${apiVersion}/${kind}`;
  if (validators.has(id)) return validators.get(id);
  let validate = null;
  if (/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) && /^[A-Za-z0-9]+$/.test(kind)) {
    try {
      const model = await import(`kubernetes-models/${apiVersion}/${kind}`);
      const schemaId = Object.keys(model).find((k) => k.startsWith("IoK8s"));
      if (schemaId) {
        const file = path.join(modelsRoot, "_schemas", `${schemaId}.mjs`);
        ({ validate } = await import(pathToFileURL(file).href));
      }
    } catch (e) {
      if (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e;
    }
  }
  validators.set(id, validate);
  return validate;
}

// Wrap `root` so that every object reached through it records the keys
// looked up on it, and whether its keys were enumerated.
function tracked(root) {
  const records = new Map(); // raw object → {pointer, accessed, enumerated}
  const proxies = new WeakMap();
  const wrap = (value, pointer) => {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const rec = { pointer, accessed: new Set(), enumerated: false };
    records.set(value, rec);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const child = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return child;
        rec.accessed.add(key);
        return Object.hasOwn(target, key) ? wrap(child, `${pointer}/${key}`) : child;
      },
      has(target, key) {
        if (typeof key === "string") rec.accessed.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        rec.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(root, ""), records };
}

function unknownFields(records) {
  const out = [];
  for (const [value, rec] of records) {
    if (Array.isArray(value) || rec.enumerated || rec.accessed.size === 0) continue;
    for (const key of Object.keys(value))
      if (!rec.accessed.has(key)) out.push({ pointer: `${rec.pointer}/${key}`, message: "unknown field" });
  }
  return out;
}

function describe(err) {
  const p = err.params || {};
  switch (err.keyword) {
    case "type": return `must be ${p.type}`;
    case "enum": return `must be one of ${(p.allowedValues || []).join(", ")}`;
    case "required": return `missing required field "${p.missingProperty}"`;
    case "format": return `must match format "${p.format}"`;
    default: return `${err.keyword} ${JSON.stringify(p)}`;
  }
}

async function validateObject(obj, where, report, seen) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    report(`${where}: not an object`);
    return 0;
  }
  const name = obj.metadata?.name ?? "(unnamed)";
  const label = `${where}: ${obj.kind ?? "?"}/${name}`;
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    report(`${label}: missing apiVersion or kind`);
    return 0;
  }
  if (obj.apiVersion === "v1" && obj.kind === "List") {
    for (const key of Object.keys(obj))
      if (!["apiVersion", "kind", "metadata", "items"].includes(key)) report(`${label}: /${key}: unknown field`);
    if (!Array.isArray(obj.items)) {
      report(`${label}: /items: must be array`);
      return 0;
    }
    let n = 0;
    for (const [i, item] of obj.items.entries()) n += await validateObject(item, `${where}[${i}]`, report, seen);
    return n;
  }
  seen.push(obj);
  const validate = await validatorFor(obj.apiVersion, obj.kind);
  if (!validate) {
    report(`${label}: no schema for apiVersion ${obj.apiVersion}, kind ${obj.kind}`);
    return 0;
  }
  const { proxy, records } = tracked(obj);
  const ok = validate(proxy);
  for (const err of ok ? [] : validate.errors || []) report(`${label}: ${err.instancePath || "/"}: ${describe(err)}`);
  for (const u of unknownFields(records)) report(`${label}: ${u.pointer}: ${u.message}`);
  return 1;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args[0] === "--json";
  const files = json ? args.slice(1) : args;
  if (files.length === 0) files.push("-");
  let errors = 0;
  let objects = 0;
  const seen = [];
  const report = (line) => {
    errors++;
    (json ? console.error : console.log)(line);
  };
  for (const file of files) {
    const where = file === "-" ? "stdin" : file;
    let text;
    try {
      text = readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (e) {
      report(`${where}: cannot read: ${e.message}`);
      continue;
    }
    const docs = parseAllDocuments(text, { uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const [i, doc] of list.entries()) {
      const at = list.length > 1 ? `${where}#${i}` : where;
      if (doc.errors?.length) {
        for (const e of doc.errors) report(`${at}: YAML: ${e.message.split("\n")[0]}`);
        continue;
      }
      const value = doc.toJS();
      if (value === null || value === undefined) continue; // an empty document
      objects += await validateObject(value, at, report, seen);
    }
  }
  if (objects === 0 && errors === 0) report("no objects found");
  if (json) process.stdout.write(JSON.stringify(seen) + "\n");
  if (errors > 0) process.exit(1);
  if (!json) console.log(`ok: ${objects} objects`);
}

main().catch((e) => {
  console.error(`validate.mjs: error: ${e.stack || e}`);
  process.exit(1);
});
