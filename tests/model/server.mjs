// server.mjs — the scripted model server the agent suites point the real
// coding-agent CLIs at (Claude Code, Codex, OpenCode), so that a whole agent
// loop runs on this machine without a model: it replays a per-test script of
// turns, records every request it gets, and fails on demand.
//
//   node tests/model/server.mjs --script FILE --log FILE --ready-file FILE [--port N]
//
// It listens on 127.0.0.1 (port 0 by default: the kernel picks one) and, once
// listening, writes its base URL (http://127.0.0.1:PORT) to the ready file
// (written to a temporary name and renamed, so a reader never sees half).
// The script and the wire adapters are described in README.md beside this
// file. This module owns HTTP, the script, the log and the faults; the wire
// formats live in the adapters (anthropic.mjs, responses.mjs), which only
// translate a neutral turn to their API.
//
// The script file is read again on every request, so a test may rewrite it
// between steps (write it whole, by rename, to be safe).
import http from "node:http";
import fs from "node:fs";
import { createHash, randomBytes } from "node:crypto";

// The wire adapters, tried in this order (README.md: "Wire adapters").
const ADAPTERS = ["anthropic.mjs", "responses.mjs"];
const adapters = [];
for (const name of ADAPTERS) adapters.push(await import(`./${name}`));

function parseArgs(argv) {
  const opts = { port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!["--script", "--log", "--ready-file", "--port"].includes(flag) || value === undefined) {
      die(`usage: server.mjs --script FILE --log FILE --ready-file FILE [--port N] (bad argument '${flag}')`);
    }
    opts[flag.slice(2).replace("-file", "File")] = flag === "--port" ? Number(value) : value;
    i++;
  }
  for (const need of ["script", "log", "readyFile"]) if (!opts[need]) die(`usage: --${need === "readyFile" ? "ready-file" : need} is required`);
  return opts;
}

function die(msg) {
  process.stderr.write(`model-server: error: ${msg}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));

// Headers that carry credentials are recorded as a fingerprint only,
// "<redacted sha256:XXXXXXXX>" (the first 8 hex digits of the SHA-256 of the
// value after any "Bearer "), so a test can tell which credential the CLI
// sent without the log ever holding one.
const CREDENTIAL_HEADERS = new Set(["authorization", "x-api-key", "cookie", "proxy-authorization", "api-key", "openai-api-key"]);

function fingerprint(value) {
  const secret = String(value).replace(/^Bearer /i, "");
  return `<redacted sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 8)}>`;
}

function recordableHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k] = CREDENTIAL_HEADERS.has(k) ? fingerprint(v) : v;
  return out;
}

function record(entry) {
  fs.appendFileSync(opts.log, JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n");
}

function loadScript() {
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(opts.script, "utf8"));
  } catch (e) {
    throw new Error(`cannot read script ${opts.script}: ${e.message}`);
  }
  const conversations = Array.isArray(parsed) ? parsed : parsed.conversations;
  if (!Array.isArray(conversations)) throw new Error(`script ${opts.script}: expected {"conversations": [...]}`);
  return { conversations, fallback: parsed.fallback };
}

// The conversation a request belongs to: the first whose `match` string occurs
// in the request's system text or first user message. Several agents can share
// one server as long as their markers (e.g. task names) differ.
function selectConversation(script, conv) {
  for (let i = 0; i < script.conversations.length; i++) {
    const c = script.conversations[i];
    if (typeof c.match !== "string" || !Array.isArray(c.turns)) throw new Error(`script: conversation ${i} needs "match" (string) and "turns" (array)`);
    if (conv.marker.includes(c.match)) return { index: i, conversation: c };
  }
  return null;
}

// How many times each (conversation, turn) has been asked for: a fault with
// `times: N` hits the first N requests for its turn, the retries after it get
// the turn itself. A fault without `times` hits every request.
const attempts = new Map();

function newId(prefix) {
  return `${prefix}${randomBytes(12).toString("hex")}`;
}

// neutralTurn — the turn as adapters see it: text (with {{last_user}}
// replaced by the last user text of the request), tool calls with ids, usage.
function neutralTurn(turn, conv) {
  const text = typeof turn.text === "string" ? turn.text.replaceAll("{{last_user}}", conv.lastUser ?? "") : "";
  const tools = (turn.tools ?? []).map((t) => ({ id: newId("call_"), name: t.name, input: t.input ?? {} }));
  return { text, tools, usage: turn.usage, model: conv.model };
}

const hanging = new Set();

async function handleTurn(adapter, req, res, body, path) {
  const conv = adapter.conversation(body);
  let script;
  try {
    script = loadScript();
  } catch (e) {
    record({ method: req.method, path, headers: recordableHeaders(req.headers), body, error: e.message });
    return adapter.error("server_error", res, e.message);
  }
  const selected = selectConversation(script, conv);
  let turns;
  let key;
  if (selected) {
    turns = selected.conversation.turns;
    key = selected.index;
  } else if (script.fallback) {
    // Requests of no scripted conversation (a CLI's own side queries, such
    // as a title or a command-prefix check) get the fallback turn.
    turns = [script.fallback];
    key = "fallback";
  } else {
    turns = [];
    key = "none";
  }
  const index = selected ? conv.assistantTurns : 0;
  const entry = { method: req.method, path, headers: recordableHeaders(req.headers), body, conversation: key, turn: index };
  const turn = turns[index];
  if (!turn) {
    record({ ...entry, response: "script-exhausted" });
    const why = selected ? `script: conversation "${selected.conversation.match}" has no turn ${index}` : "script: no conversation matches this request";
    return adapter.error("server_error", res, why);
  }
  const fault = turn.fault;
  if (fault) {
    const n = `${key}/${index}`;
    const seen = (attempts.get(n) ?? 0) + 1;
    attempts.set(n, seen);
    if (fault.times === undefined || seen <= fault.times) {
      record({ ...entry, response: `fault:${fault.kind}` });
      switch (fault.kind) {
        case "rate_limit":
        case "server_error":
        case "overloaded":
          return adapter.error(fault.kind, res, `scripted ${fault.kind}`, fault.retry);
        case "hang":
          // Never answer; the socket is closed only when the server stops or
          // the client gives up.
          hanging.add(res);
          res.on("close", () => hanging.delete(res));
          return;
        case "cut":
          return adapter.respond(neutralTurn(turn, conv), { body, path, stream: conv.stream, cut: true }, res);
        default:
          return adapter.error("server_error", res, `script: unknown fault kind "${fault.kind}"`);
      }
    }
  }
  record({ ...entry, response: turn.tools?.length ? "tools" : "text" });
  return adapter.respond(neutralTurn(turn, conv), { body, path, stream: conv.stream, cut: false }, res);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const path = req.url.split("?")[0];
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const route = adapters.map((a) => ({ a, kind: a.route(req.method, path) })).find((r) => r.kind);
    if (!route) {
      record({ method: req.method, path, headers: recordableHeaders(req.headers), body, response: "not-found" });
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: { type: "not_found_error", message: `no such endpoint: ${req.method} ${path}` } }));
    }
    if (route.kind === "turn") {
      Promise.resolve(handleTurn(route.a, req, res, body, path)).catch((e) => {
        process.stderr.write(`model-server: ${e.stack}\n`);
        if (!res.headersSent) route.a.error("server_error", res, e.message);
        else res.destroy();
      });
      return;
    }
    // Anything else the adapter answers itself (e.g. count_tokens, models).
    record({ method: req.method, path, headers: recordableHeaders(req.headers), body, response: route.kind });
    route.a.other(route.kind, body, res);
  });
});

function stop() {
  for (const res of hanging) res.destroy();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.listen(opts.port, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  const tmp = `${opts.readyFile}.tmp${process.pid}`;
  fs.writeFileSync(tmp, url + "\n");
  fs.renameSync(tmp, opts.readyFile);
});
