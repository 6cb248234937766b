// openapi.cc — the OpenAPI 3.1 document served at /openapi.json: the data
// file lib/cp/openapi.json, compiled into the library at build time
// (lib/base/embed_file.cmake), with this build's version filled in. A test
// walks it against routes() both ways, so a route added without its entry
// (or the reverse) fails the build's tests.
//
// The status codes listed are the ones the handlers (api_agents.cc,
// api_watch.cc, api.cc) and the HTTP server (bearer auth 401, body cap 413)
// really return. Shared parameters, responses and schemas live under
// `components` and are referenced, so each path reads in a few lines.
#include <string_view>

#include "cp/api.h"

namespace fracta::embedded {
std::string_view openapi_json();  // generated from lib/cp/openapi.json
}  // namespace fracta::embedded

namespace fracta::cp {

const Json& openapi_document() {
    static const Json doc = [] {
        Json d = Json::parse(embedded::openapi_json());
        d["info"]["version"] = FRACTA_VERSION;
        return d;
    }();
    return doc;
}

}  // namespace fracta::cp
