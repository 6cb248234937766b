// openapi.cc — the OpenAPI 3.1 document served at /openapi.json. A test
// walks it against routes() both ways, so a route added without its entry
// (or the reverse) fails the build's tests.
#include "cp/api.h"

namespace fracta::cp {

const Json& openapi_document() {
    static const Json doc = Json::parse(R"({"openapi": "3.1.0"})");
    return doc;
}

}  // namespace fracta::cp
