// call-tool.mjs TOOL [ARGS-JSON] — what an agent does with its gateway: call
// one tool at $FRACTA_GATEWAY_URL with $FRACTA_GATEWAY_TOKEN, over
// streamable HTTP, and print the result's text (exit 1 on an isError result).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [tool, args] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(process.env.FRACTA_GATEWAY_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.FRACTA_GATEWAY_TOKEN}` } },
});
const client = new Client({ name: "fracta-agent", version: "1.0.0" });
await client.connect(transport);
const result = await client.callTool({ name: tool, arguments: args ? JSON.parse(args) : {} });
await client.close();
console.log(result.content?.map((c) => c.text ?? "").join("\n"));
process.exit(result.isError ? 1 : 0);
