// recording-server.mjs PORT HEADERS-FILE — an MCP backend over streamable
// HTTP built on the real SDK server: it appends every request's headers to
// HEADERS-FILE (one JSON object per line), offers `echo`, `grow`, which
// adds a tool (`grown_N`) and so makes the server announce list_changed, and
// `slow {seconds}`, which answers after that long unless it is cancelled.
// With $REC_MESSAGES set, every JSON-RPC message POSTed to it is appended
// there too (one per line), and a cancelled `slow` appends
// {"aborted": <its request id>}.
import http from "node:http";
import fs from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const [port, headersFile] = process.argv.slice(2);
const server = new McpServer({ name: "recording", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
server.registerTool("echo", { description: "echo", inputSchema: { message: z.string() } }, async ({ message }) => ({
  content: [{ type: "text", text: `echo: ${message}` }],
}));
let grown = 0;
server.registerTool("grow", { description: "add a tool" }, async () => {
  grown += 1;
  server.registerTool(`grown_${grown}`, { description: "grown" }, async () => ({ content: [{ type: "text", text: "grown" }] }));
  return { content: [{ type: "text", text: `grown_${grown}` }] };
});
const messagesFile = process.env.REC_MESSAGES;
server.registerTool(
  "slow",
  { description: "answer after a while", inputSchema: { seconds: z.number() } },
  async ({ seconds }, extra) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ content: [{ type: "text", text: `slept ${seconds}s` }] }), seconds * 1000);
      extra.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        if (messagesFile) fs.appendFileSync(messagesFile, JSON.stringify({ aborted: extra.requestId }) + "\n");
        resolve({ content: [{ type: "text", text: "aborted" }], isError: true });
      });
    }),
);
const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => crypto.randomUUID() });
await server.connect(transport);
http
  .createServer(async (req, res) => {
    fs.appendFileSync(headersFile, JSON.stringify(req.headers) + "\n");
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      if (messagesFile && body) fs.appendFileSync(messagesFile, body.replace(/\n/g, " ") + "\n");
      await transport.handleRequest(req, res, body ? JSON.parse(body) : undefined);
    });
  })
  .listen(Number(port), "127.0.0.1", () => console.error(`recording server on ${port}`));
