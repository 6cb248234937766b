// The OpenAPI document at /openapi.json against the route table: every
// route is documented and every documented operation is routed, path
// parameters are declared, references resolve, and only /api/v1 asks for
// the bearer token.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agents/agents.h"
#include "cp/api.h"
#include "cp/mailbox.h"
#include "cp/spawn.h"

using namespace fracta;
using namespace fracta::cp;
using namespace fracta::agents;

namespace {

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// (lower-case method, path) of every operation in the document.
std::set<std::pair<std::string, std::string>> documented_operations(const Json& doc) {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& [path, item] : doc.at("paths").items())
        for (const auto& [key, op] : item.items())
            if (kMethods.count(key)) out.emplace(key, path);
    return out;
}

std::set<std::pair<std::string, std::string>> routed_operations() {
    std::set<std::pair<std::string, std::string>> out;
    for (const Route& r : routes()) out.emplace(lower(r.method), r.pattern);
    return out;
}

// The object a local "$ref" ("#/components/…") points to; throws if none.
const Json& resolve(const Json& doc, const Json& maybe_ref) {
    if (!maybe_ref.is_object() || !maybe_ref.contains("$ref")) return maybe_ref;
    const std::string ref = maybe_ref.at("$ref").get<std::string>();
    REQUIRE(ref.rfind("#/", 0) == 0);
    return doc.at(Json::json_pointer(ref.substr(1)));
}

// Every "$ref" anywhere under `node`, with where it was found.
void collect_refs(const Json& node, const std::string& where, std::vector<std::pair<std::string, std::string>>& out) {
    if (node.is_object()) {
        for (const auto& [key, value] : node.items()) {
            if (key == "$ref" && value.is_string()) out.emplace_back(where, value.get<std::string>());
            collect_refs(value, where + "/" + key, out);
        }
    } else if (node.is_array()) {
        for (size_t i = 0; i < node.size(); ++i) collect_refs(node[i], where + "/" + std::to_string(i), out);
    }
}

// The names of the {params} of a path pattern.
std::set<std::string> keys(const Json& object) {
    std::set<std::string> out;
    for (const auto& [key, value] : object.items()) out.insert(key);
    return out;
}

std::set<std::string> template_params(const std::string& path) {
    std::set<std::string> out;
    static const std::regex param(R"(\{([^}/]+)\})");
    for (auto it = std::sregex_iterator(path.begin(), path.end(), param); it != std::sregex_iterator(); ++it)
        out.insert((*it)[1].str());
    return out;
}

// The path parameters an operation declares, at the path level or its own.
std::set<std::string> declared_path_params(const Json& doc, const Json& item, const Json& op) {
    std::set<std::string> out;
    for (const Json* list : {&item, &op}) {
        if (!list->contains("parameters")) continue;
        for (const auto& p : list->at("parameters")) {
            const Json& param = resolve(doc, p);
            if (param.at("in") != "path") continue;
            INFO(param.dump());
            CHECK(param.value("required", false));  // OpenAPI: path parameters must be required
            out.insert(param.at("name").get<std::string>());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("openapi: the document parses as OpenAPI 3.1 with fracta's title and version", "[cp][openapi]") {
    const Json& doc = openapi_document();
    REQUIRE(doc.is_object());
    CHECK(doc.at("openapi") == "3.1.0");
    CHECK(doc.at("info").at("title") == "fracta control plane");
    CHECK(doc.at("info").at("version") == FRACTA_VERSION);
    CHECK(doc.at("paths").is_object());
    CHECK(doc.at("components").at("schemas").is_object());
    // The same object every time (parsed once).
    CHECK(&openapi_document() == &doc);
}

TEST_CASE("openapi: every route is documented, and every documented operation is routed", "[cp][openapi]") {
    const Json& doc = openapi_document();
    const auto documented = documented_operations(doc);
    const auto routed = routed_operations();
    REQUIRE(routed.size() == routes().size());  // no route listed twice
    for (const auto& [method, path] : routed) {
        INFO(method << " " << path << " is in routes() but not in the document");
        CHECK(documented.count({method, path}) == 1);
    }
    for (const auto& [method, path] : documented) {
        INFO(method << " " << path << " is in the document but not in routes()");
        CHECK(routed.count({method, path}) == 1);
    }
}

TEST_CASE("openapi: every {param} of a path is declared as a path parameter, and no other", "[cp][openapi]") {
    const Json& doc = openapi_document();
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [method, op] : item.items()) {
            if (!kMethods.count(method)) continue;
            INFO(method << " " << path);
            CHECK(declared_path_params(doc, item, op) == template_params(path));
        }
    }
}

TEST_CASE("openapi: every $ref resolves inside the document", "[cp][openapi]") {
    const Json& doc = openapi_document();
    std::vector<std::pair<std::string, std::string>> refs;
    collect_refs(doc, "#", refs);
    REQUIRE(!refs.empty());
    for (const auto& [where, ref] : refs) {
        INFO(where << ": $ref " << ref);
        REQUIRE(ref.rfind("#/", 0) == 0);  // local references only
        CHECK(doc.contains(Json::json_pointer(ref.substr(1))));
    }
}

TEST_CASE("openapi: operations have unique ids and documented responses", "[cp][openapi]") {
    const Json& doc = openapi_document();
    std::set<std::string> ids;
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [method, op] : item.items()) {
            if (!kMethods.count(method)) continue;
            INFO(method << " " << path);
            REQUIRE(op.contains("operationId"));
            CHECK(ids.insert(op.at("operationId").get<std::string>()).second);
            REQUIRE(op.contains("responses"));
            bool success = false;
            for (const auto& [code, response] : op.at("responses").items()) {
                INFO("response " << code);
                REQUIRE(code.size() == 3);
                CHECK(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
                if (code[0] == '2') success = true;
                CHECK(resolve(doc, response).contains("description"));
            }
            CHECK(success);
        }
    }
}

TEST_CASE("openapi: the bearer token guards /api/v1 and nothing else", "[cp][openapi]") {
    const Json& doc = openapi_document();
    const Json& scheme = doc.at("components").at("securitySchemes").at("bearer");
    CHECK(scheme.at("type") == "http");
    CHECK(scheme.at("scheme") == "bearer");
    CHECK_FALSE(doc.contains("security"));  // no document-wide requirement: health and co. stay open
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [method, op] : item.items()) {
            if (!kMethods.count(method)) continue;
            INFO(method << " " << path);
            if (path.rfind("/api/v1/", 0) == 0) {
                CHECK(op.value("security", Json()) == Json::parse(R"([{"bearer": []}])"));
                CHECK(op.at("responses").contains("401"));
            } else {
                CHECK_FALSE(op.contains("security"));
            }
        }
    }
}

TEST_CASE("openapi: the task pattern is the one the control plane enforces", "[cp][openapi]") {
    const Json& doc = openapi_document();
    const Json& schemas = doc.at("components").at("schemas");
    const std::string pattern = schemas.at("TaskName").at("pattern").get<std::string>();
    CHECK(pattern == "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$");
    CHECK(resolve(doc, schemas.at("SpawnRequest").at("properties").at("task")).at("pattern") == pattern);
    const std::regex re(pattern);
    std::vector<std::string> names = {"a", "fix-bug_2", "A9", "-x", "_x", "", "a/b", "a.b", "a b", "t\n", "é"};
    names.push_back(std::string(64, 'a'));
    names.push_back(std::string(65, 'a'));
    for (const std::string& name : names) {
        INFO("\"" << name << "\"");
        CHECK(std::regex_match(name, re) == check_task_name(name).ok());
    }
}

TEST_CASE("openapi: the schemas the contract names are there, with their fields", "[cp][openapi]") {
    const Json& schemas = openapi_document().at("components").at("schemas");
    for (const char* name : {"Agent", "SpawnRequest", "SpawnResponse", "Event", "Message", "Error"}) {
        INFO(name);
        CHECK(schemas.contains(name));
    }
    CHECK(schemas.at("Error").at("required") == Json::parse(R"(["error"])"));
    // Exactly the keys the handlers write.
    Agent a;
    a.name = "t1";
    CHECK(keys(schemas.at("Agent").at("properties")) == keys(a.to_json()));
    CHECK(keys(schemas.at("SpawnResponse").at("properties")) == keys(spawn_response(a, 1)));
    CHECK(keys(schemas.at("Message").at("properties")) == keys(Message{}.to_json()));
    const Json& spawn = schemas.at("SpawnRequest").at("properties");
    for (const char* field : {"task", "contract", "base_branch", "model", "tier", "runtime", "mode", "dispatch",
                              "priority", "labels", "parent", "env"}) {
        INFO(field);
        CHECK(spawn.contains(field));
    }
}
