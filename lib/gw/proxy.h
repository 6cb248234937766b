// proxy.h — the proxied backends as the gateway's MCP surface sees them:
// one list of tools under their exposed names (`<backend>__<tool>`), and
// calls routed back to the backend that owns each. Implemented by Backends
// (backends.h); an interface so that the surface can be tested without
// child processes.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "mcp/server.h"

namespace fracta::gw {

class Proxy {
public:
    virtual ~Proxy() = default;
    // Every tool of every backend that answered in time, exposed names in a
    // stable order. A down or slow backend is left out, never waited on past
    // its list timeout.
    virtual std::vector<mcp::Tool> tools() = 0;
    // Whether `exposed` names a proxied tool (of a backend up or down).
    virtual bool owns(const std::string& exposed) = 0;
    // Call it on its backend. A backend that is down or fails: an isError
    // result naming the backend, never an exception to the protocol.
    virtual Result<Json> call(const std::string& exposed, const Json& arguments, const mcp::CallContext& ctx) = 0;
    // Per backend: {"id","up","tools","error"} for /metrics and /readyz.
    virtual Json health() = 0;
    // Whether the first discovery pass has finished (or its deadline passed).
    virtual bool discovered() = 0;
};

}  // namespace fracta::gw
