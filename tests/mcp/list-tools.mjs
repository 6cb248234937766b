// list-tools.mjs — the tool names an agent sees at $FRACTA_GATEWAY_URL (with
// $FRACTA_GATEWAY_TOKEN), one JSON array, through the real SDK client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const transport = new StreamableHTTPClientTransport(new URL(process.env.FRACTA_GATEWAY_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.FRACTA_GATEWAY_TOKEN}` } },
});
const client = new Client({ name: "fracta-agent", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
await client.close();
console.log(JSON.stringify(tools.map((t) => t.name)));
