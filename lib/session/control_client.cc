#include "session/control_client.h"

#include "http/client.h"

namespace fracta::session {

Result<Json> call_control(const SessionDir& dir, const std::string& method, const std::string& path,
                          const std::string& body, std::chrono::milliseconds timeout) {
    http::ClientOptions options;
    options.unix_socket = dir.file("control.sock");
    options.timeout = timeout;
    http::Client client("http://localhost", options);
    FRACTA_TRY_ASSIGN(response, client.request(method, path, body));
    auto json = parse_json(response.body.empty() ? "{}" : response.body);
    if (response.status < 200 || response.status > 299) {
        std::string why = json.ok() && json->is_object() ? json->value("error", "") : "";
        if (why.empty()) why = "supervisor answered " + std::to_string(response.status);
        if (response.status == 400) return usage_error(why);
        if (response.status == 503 || response.status == 504) return temporary_error(why);
        return failure(why);
    }
    if (!json.ok()) return failure("supervisor: unreadable answer");
    return json;
}

}  // namespace fracta::session
