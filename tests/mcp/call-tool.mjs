// call-tool.mjs TOOL [ARGS-JSON] — what an agent does with its gateway: call
// one tool at $FRACTA_GATEWAY_URL with $FRACTA_GATEWAY_TOKEN, over
// streamable HTTP, and print the result's text (exit 1 on an isError result).
// CALL_TOOL_PROGRESS=1: ask for progress and print each notification to
// stderr as "progress N" (a test's sign that the call is running).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [tool, args] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(process.env.FRACTA_GATEWAY_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.FRACTA_GATEWAY_TOKEN}` } },
});
const client = new Client({ name: "fracta-agent", version: "1.0.0" });
await client.connect(transport);
const options = process.env.CALL_TOOL_PROGRESS ? { onprogress: (p) => console.error(`progress ${p.progress}`) } : undefined;
const result = await client.callTool({ name: tool, arguments: args ? JSON.parse(args) : {} }, undefined, options);
await client.close();
console.log(result.content?.map((c) => c.text ?? "").join("\n"));
process.exit(result.isError ? 1 : 0);
