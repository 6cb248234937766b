// api.h — the control plane's HTTP API (spec: control-plane.md): one table
// of routes, from which both the router and the OpenAPI document's
// cross-check are built, so the two cannot drift apart silently.
#pragma once

#include <string>
#include <vector>

#include "agents/agents.h"
#include "cp/context.h"
#include "http/server.h"

namespace fracta::cp {

struct Route {
    const char* method;
    const char* pattern;  // "/api/v1/agents/{task}"
    http::Response (*handle)(Context& ctx, const http::Request& request);
    bool read = false;  // changes nothing: the read-only token may call it
};

const std::vector<Route>& routes();

// Every route of routes() on one handler, counting responses for /metrics.
http::Handler make_handler(Context& ctx);

// The OpenAPI 3.1 document of the API.
const Json& openapi_document();

// The Prometheus text exposition of /metrics.
std::string render_metrics(Context& ctx);

// Route handlers, by group (api_agents.cc, api_watch.cc, api_misc.cc).
namespace routes_impl {
http::Response spawn(Context&, const http::Request&);
http::Response list(Context&, const http::Request&);
http::Response get(Context&, const http::Request&);
http::Response kill(Context&, const http::Request&);
http::Response say(Context&, const http::Request&);
http::Response peek(Context&, const http::Request&);
http::Response logs(Context&, const http::Request&);
http::Response merge(Context&, const http::Request&);
http::Response events_get(Context&, const http::Request&);
http::Response events_post(Context&, const http::Request&);
http::Response watch(Context&, const http::Request&);
http::Response wait(Context&, const http::Request&);
http::Response send_message(Context&, const http::Request&);
http::Response inbox(Context&, const http::Request&);
http::Response verify(Context&, const http::Request&);
http::Response intent(Context&, const http::Request&);
// api_objectives.cc, api_proposals.cc
http::Response create_objective(Context&, const http::Request&);
http::Response list_objectives(Context&, const http::Request&);
http::Response get_objective(Context&, const http::Request&);
http::Response unfreeze_objective(Context&, const http::Request&);
http::Response close_objective(Context&, const http::Request&);
http::Response report_finding(Context&, const http::Request&);
http::Response resolve_objective(Context&, const http::Request&);
http::Response propose(Context&, const http::Request&);
http::Response list_proposals(Context&, const http::Request&);
http::Response approve_proposal(Context&, const http::Request&);
http::Response reject_proposal(Context&, const http::Request&);
}  // namespace routes_impl

// Shared by the handlers.
http::Response error_response(const Error& error);  // Usage 400, Temporary 503, else 500
Result<Json> json_body(const http::Request& request, bool required = true);  // {} when empty and optional

// 200 {key: [to_json(each)]} for what a query listed, else its error's answer.
template <class T, class ToJson>
http::Response list_response(const char* key, const Result<std::vector<T>>& listed, ToJson to_json) {
    if (!listed.ok()) return error_response(listed.error());
    Json out = Json::array();
    for (const T& each : *listed) out.push_back(to_json(each));
    return http::Response::json(200, {{key, out}});
}
template <class T>
http::Response list_response(const char* key, const Result<std::vector<T>>& listed) {
    return list_response(key, listed, [](const T& each) { return each.to_json(); });
}

}  // namespace fracta::cp
