// responses.mjs — the OpenAI Responses API wire adapter of the scripted model
// server (server.mjs): POST /v1/responses, streaming (SSE, what Codex asks
// for) and plain JSON. The adapter interface is described in README.md.
//
// A scripted tool call named `mcp__<server>__<tool>` becomes a call of
// <tool> in the namespace `mcp__<server>` when the request offers that
// namespace: Codex hands MCP tools to the model that way (one `namespace`
// tool per server, holding the server's tools), and rejects a flat name.

export function route(method, path) {
  if (method === "POST" && path === "/v1/responses") return "turn";
  return null;
}

const items = (body) => (Array.isArray(body?.input) ? body.input : typeof body?.input === "string" ? [{ type: "message", role: "user", content: body.input }] : []);

function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((p) => typeof p?.text === "string")
    .map((p) => p.text)
    .join("\n");
}

// What Codex puts in user messages besides what the user said: its
// environment block and the AGENTS.md it read.
const contextMessage = (text) => /^\s*(<environment_context>|# AGENTS\.md instructions|<user_instructions>)/.test(text);

// An item the model produced (so part of an earlier response).
const isModelItem = (item) =>
  (item?.type === "message" && item.role === "assistant") ||
  ["function_call", "reasoning", "custom_tool_call", "local_shell_call", "web_search_call"].includes(item?.type);

// conversation — the marker is the instructions, the developer and system
// messages and every user message (stable as the history grows); the
// earlier model turns are the runs of model items in the input (one response
// may hold a message and several calls, side by side).
export function conversation(body) {
  const input = items(body);
  const system = [body?.instructions ?? ""];
  const user = [];
  for (const item of input) {
    if (item?.type !== "message" && item?.type !== undefined) continue;
    if (item.role === "developer" || item.role === "system") system.push(textOf(item.content));
    else if (item.role === "user") user.push(textOf(item.content));
  }
  let turns = 0;
  let inRun = false;
  for (const item of input) {
    const mine = isModelItem(item);
    if (mine && !inRun) turns++;
    inRun = mine;
  }
  const said = [...user].reverse().find((t) => t && !contextMessage(t)) ?? "";
  return {
    marker: `${system.join("\n")}\n${user.join("\n")}`,
    assistantTurns: turns,
    lastUser: said,
    stream: body?.stream === true,
    model: body?.model ?? "scripted",
  };
}

const roughTokens = (s) => Math.max(1, Math.ceil(s.length / 4));

// The namespace a scripted name belongs to, when the request offers it.
function callName(name, body) {
  const m = /^(mcp__[^_].*?)__(.+)$/.exec(name);
  if (!m) return { name };
  const offered = (body?.tools ?? []).some((t) => t?.type === "namespace" && t.name === m[1]);
  return offered ? { name: m[2], namespace: m[1] } : { name };
}

function usageOf(turn, ctx) {
  const out = turn.text + turn.tools.map((t) => t.name + JSON.stringify(t.input)).join("");
  const input = turn.usage?.input_tokens ?? roughTokens(JSON.stringify(ctx.body ?? ""));
  const output = turn.usage?.output_tokens ?? roughTokens(out);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

// The output items of the turn: its text as one assistant message, then one
// function_call per tool call.
function outputOf(turn, ctx) {
  const output = [];
  if (turn.text) {
    output.push({
      id: `msg_${Date.now().toString(16)}${output.length}`,
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: turn.text, annotations: [] }],
    });
  }
  for (const t of turn.tools) {
    output.push({
      id: t.id.replace(/^call_/, "fc_"),
      type: "function_call",
      status: "completed",
      call_id: t.id,
      ...callName(t.name, ctx.body),
      arguments: JSON.stringify(t.input),
    });
  }
  return output;
}

function responseObject(id, turn, status, output, usage) {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model: turn.model,
    output,
    ...(usage ? { usage } : {}),
  };
}

// respond — answer one model call with the turn. Streaming, the events a
// Responses client reads: response.created, per item output_item.added,
// its deltas (text in two parts, so a reader must join them; arguments as
// function_call_arguments.delta), output_item.done, then response.completed
// with usage. With ctx.cut the stream stops inside the first item and the
// connection is dropped.
export function respond(turn, ctx, res) {
  const id = `resp_${turn.tools[0]?.id.slice(5) ?? Date.now().toString(16)}`;
  const output = outputOf(turn, ctx);
  const usage = usageOf(turn, ctx);
  if (!ctx.stream) {
    const json = JSON.stringify(responseObject(id, turn, "completed", output, usage));
    res.writeHead(200, { "content-type": "application/json" });
    if (ctx.cut) return res.write(json.slice(0, Math.floor(json.length / 2)), () => res.destroy());
    return res.end(json);
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let seq = 0;
  const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  // The connection drops once what was sent has left (a destroy at once
  // could drop the unsent part too, even the status line).
  const cut = () => res.write("\n", () => res.destroy());
  send("response.created", { response: responseObject(id, turn, "in_progress", []) });
  send("response.in_progress", { response: responseObject(id, turn, "in_progress", []) });
  for (const [index, item] of output.entries()) {
    if (item.type === "message") {
      const text = item.content[0].text;
      send("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", content: [] } });
      const part = { type: "output_text", text: "", annotations: [] };
      send("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part });
      const half = Math.ceil(text.length / 2);
      for (const delta of [text.slice(0, half), text.slice(half)]) {
        if (delta) send("response.output_text.delta", { item_id: item.id, output_index: index, content_index: 0, delta });
        if (ctx.cut) return cut();
      }
      send("response.output_text.done", { item_id: item.id, output_index: index, content_index: 0, text });
      send("response.content_part.done", { item_id: item.id, output_index: index, content_index: 0, part: { ...part, text } });
    } else {
      send("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", arguments: "" } });
      send("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: item.arguments });
      if (ctx.cut) return cut();
      send("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: item.arguments });
    }
    send("response.output_item.done", { output_index: index, item });
  }
  if (ctx.cut) return cut();  // a turn with nothing to say is cut before it completes
  send("response.completed", { response: responseObject(id, turn, "completed", output, usage) });
  res.end();
}

const ERRORS = {
  rate_limit: [429, "rate_limit_exceeded", "requests"],
  server_error: [500, "server_error", "server_error"],
  overloaded: [503, "server_is_overloaded", "server_error"],
};

// error — an API error of the given kind as OpenAI sends it. `retry` false
// adds x-should-retry: false, which the OpenAI SDKs obey.
export function error(kind, res, messageText, retry) {
  const [status, code, type] = ERRORS[kind] ?? ERRORS.server_error;
  const headers = { "content-type": "application/json", "retry-after": "0" };
  if (retry === false) headers["x-should-retry"] = "false";
  res.writeHead(status, headers);
  res.end(JSON.stringify({ error: { message: messageText, type, param: null, code } }));
}

export function other(kind, body, res) {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message: `no such endpoint (${kind})`, type: "invalid_request_error" } }));
}
