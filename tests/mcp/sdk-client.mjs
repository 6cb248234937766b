// sdk-client.mjs URL TOKEN http|sse PREFIX — the real MCP SDK client against
// the gateway: list tools, call PREFIX__echo, call PREFIX's long-running tool
// with a progress handler, then end the session. Prints one JSON summary.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const [url, token, kind, prefix] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}` };
const transport =
  kind === "sse"
    ? new SSEClientTransport(new URL(url), { requestInit: { headers }, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...headers } }) } })
    : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: "fracta-test", version: "1.0.0" });
await client.connect(transport);
const summary = { protocol: client.getServerVersion?.()?.name ?? null };
const tools = await client.listTools();
summary.tools = tools.tools.map((t) => t.name);
const echo = await client.callTool({ name: `${prefix}__echo`, arguments: { message: `hello-${kind}` } });
summary.echo = echo.content?.[0]?.text ?? null;
const progress = [];
const long = await client.callTool(
  { name: `${prefix}__trigger-long-running-operation`, arguments: { duration: 1, steps: 3 } },
  undefined,
  { onprogress: (p) => progress.push(p.progress), timeout: 20000 },
);
summary.long = long.content?.[0]?.text ?? null;
summary.progress = progress;
if (kind !== "sse") {
  await transport.terminateSession();
  summary.terminated = transport.sessionId === undefined;
}
await client.close();
console.log(JSON.stringify(summary));
