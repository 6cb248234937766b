// anthropic.mjs — the Anthropic Messages API wire adapter of the scripted
// model server (server.mjs): POST /v1/messages, streaming (SSE) and plain
// JSON, POST /v1/messages/count_tokens, GET /v1/models. Claude Code and
// OpenCode's anthropic provider speak it. The adapter interface is described
// in README.md.

// route — which requests are ours: "turn" for a model call, another name for
// the endpoints answered by other(), null for none.
export function route(method, path) {
  if (method === "POST" && path === "/v1/messages") return "turn";
  if (method === "POST" && path === "/v1/messages/count_tokens") return "count_tokens";
  if (method === "GET" && path === "/v1/models") return "models";
  return null;
}

function blocks(content) {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content : [];
}

function textOf(content) {
  return blocks(content)
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("\n");
}

// conversation — what the server needs to pick and advance a script: the
// text a marker is looked for in (system prompt and first user message), how
// many assistant turns the request already holds, the last thing the user
// said (its text blocks that are not Claude Code's <system-reminder>s).
export function conversation(body) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const system = typeof body?.system === "string" ? body.system : textOf(body?.system);
  const firstUser = messages.find((m) => m.role === "user");
  const lastUser = [...messages].reverse().find((m) => m.role === "user" && blocks(m.content).some((b) => b.type === "text"));
  const said = lastUser
    ? blocks(lastUser.content)
        .filter((b) => b.type === "text" && !b.text.trimStart().startsWith("<system-reminder>"))
        .map((b) => b.text)
        .join("\n")
    : "";
  return {
    marker: `${system}\n${firstUser ? textOf(firstUser.content) : ""}`,
    assistantTurns: messages.filter((m) => m.role === "assistant").length,
    lastUser: said,
    stream: body?.stream === true,
    model: body?.model ?? "scripted",
  };
}

const roughTokens = (s) => Math.max(1, Math.ceil(s.length / 4));

function usageOf(turn, ctx) {
  const out = turn.text + turn.tools.map((t) => t.name + JSON.stringify(t.input)).join("");
  return {
    input_tokens: turn.usage?.input_tokens ?? roughTokens(JSON.stringify(ctx.body ?? "")),
    output_tokens: turn.usage?.output_tokens ?? roughTokens(out),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

function contentOf(turn) {
  const content = [];
  if (turn.text) content.push({ type: "text", text: turn.text });
  for (const t of turn.tools) content.push({ type: "tool_use", id: t.id.replace(/^call_/, "toolu_"), name: t.name, input: t.input });
  return content;
}

function message(turn, ctx) {
  return {
    id: `msg_${turn.tools[0]?.id.slice(5) ?? Date.now().toString(16)}`,
    type: "message",
    role: "assistant",
    model: turn.model,
    content: contentOf(turn),
    stop_reason: turn.tools.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: usageOf(turn, ctx),
  };
}

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

// respond — answer one model call with the turn: a message whose content is
// the turn's text then its tool calls. With ctx.cut, the answer stops in the
// middle of the message and the connection is dropped.
export function respond(turn, ctx, res) {
  const msg = message(turn, ctx);
  if (!ctx.stream) {
    const json = JSON.stringify(msg);
    res.writeHead(200, { "content-type": "application/json" });
    if (ctx.cut) {
      // Dropped only once the part is on the wire, so the client sees it.
      return res.write(json.slice(0, Math.floor(json.length / 2)), () => res.destroy());
    }
    return res.end(json);
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  sse(res, "message_start", {
    type: "message_start",
    message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } },
  });
  msg.content.forEach((block, index) => {
    if (block.type === "text") {
      sse(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      // Two deltas, so that a reader must join them.
      const half = Math.ceil(block.text.length / 2);
      for (const part of [block.text.slice(0, half), block.text.slice(half)]) {
        if (part) sse(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: part } });
        if (ctx.cut) return;
      }
    } else {
      sse(res, "content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      sse(res, "content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
      });
    }
    sse(res, "content_block_stop", { type: "content_block_stop", index });
  });
  if (ctx.cut) return res.write("", () => res.destroy());
  sse(res, "message_delta", {
    type: "message_delta",
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    usage: { output_tokens: msg.usage.output_tokens },
  });
  sse(res, "message_stop", { type: "message_stop" });
  res.end();
}

const ERRORS = {
  rate_limit: [429, "rate_limit_error"],
  server_error: [500, "api_error"],
  overloaded: [529, "overloaded_error"],
};

// error — an API error of the given kind (rate_limit, server_error,
// overloaded) as Anthropic sends it. `retry` false adds x-should-retry: false,
// which the Anthropic SDKs obey (no retries of their own).
export function error(kind, res, messageText, retry) {
  const [status, type] = ERRORS[kind] ?? ERRORS.server_error;
  const headers = { "content-type": "application/json", "retry-after": "0" };
  if (retry === false) headers["x-should-retry"] = "false";
  res.writeHead(status, headers);
  res.end(JSON.stringify({ type: "error", error: { type, message: messageText } }));
}

// other — the endpoints that are not a model turn.
export function other(kind, body, res) {
  res.writeHead(200, { "content-type": "application/json" });
  if (kind === "count_tokens") return res.end(JSON.stringify({ input_tokens: roughTokens(JSON.stringify(body ?? "")) }));
  res.end(JSON.stringify({ data: [{ type: "model", id: "scripted", display_name: "scripted" }], has_more: false }));
}
