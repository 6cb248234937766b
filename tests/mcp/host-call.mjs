// host-call.mjs TOOL [ARGS-JSON] — what an AI CLI on the host does with
// fracta: run `$FRACTA_BIN/fracta-gw stdio` in the working directory through
// the real MCP SDK client's stdio transport, call one tool, and print one JSON
// object {isError, text, structured}. Exit 0 whenever the call was answered
// (the caller checks isError), 1 when the session itself failed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [tool, args] = process.argv.slice(2);
const transport = new StdioClientTransport({
  command: `${process.env.FRACTA_BIN}/fracta-gw`,
  args: ["stdio"],
  cwd: process.cwd(),
  env: process.env,
  stderr: "inherit",
});
const client = new Client({ name: "fracta-host", version: "1.0.0" });
await client.connect(transport);
const result = await client.callTool({ name: tool, arguments: args ? JSON.parse(args) : {} });
await client.close();
console.log(
  JSON.stringify({
    isError: result.isError ?? false,
    text: result.content?.map((c) => c.text ?? "").join("\n") ?? "",
    structured: result.structuredContent ?? null,
  }),
);
