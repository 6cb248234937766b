#include "session/control_client.h"

#include "http/client.h"

namespace fracta::session {

Result<Json> call_control(const SessionDir& dir, const std::string& method, const std::string& path,
                          const std::string& body) {
    http::ClientOptions options;
    options.unix_socket = dir.file("control.sock");
    options.timeout = std::chrono::seconds(20);
    http::Client client("http://localhost", options);
    FRACTA_TRY_ASSIGN(response, client.request(method, path, body));
    auto json = parse_json(response.body.empty() ? "{}" : response.body);
    if (response.status < 200 || response.status > 299) {
        std::string why = json.ok() && json->is_object() ? json->value("error", "") : "";
        return failure("supervisor: " + std::to_string(response.status) + (why.empty() ? "" : ": " + why));
    }
    if (!json.ok()) return failure("supervisor: unreadable answer");
    return json;
}

}  // namespace fracta::session
