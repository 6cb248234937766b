#include "gw/cp_api.h"

namespace fracta::gw {

std::string CpAnswer::error() const {
    if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"].get<std::string>();
    return "HTTP " + std::to_string(status);
}

ControlPlane::ControlPlane(std::string url, std::string token, std::chrono::milliseconds timeout)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
}

std::unique_ptr<http::Client> ControlPlane::take() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
    }
    http::ClientOptions o;
    o.timeout = timeout_;
    o.bearer_token = token_;
    return std::make_unique<http::Client>(url_, o);
}

void ControlPlane::give_back(std::unique_ptr<http::Client> client) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(client));
}

Result<CpAnswer> ControlPlane::call(const std::string& method, const std::string& path, const Json& body) {
    auto client = take();
    auto r = client->request(method, path, body.is_null() ? std::string() : to_line(body));
    if (!r.ok()) return std::move(r).take_error().context("control plane");
    give_back(std::move(client));
    CpAnswer a;
    a.status = r->status;
    auto parsed = parse_json(r->body.empty() ? "{}" : r->body);
    a.body = parsed.ok() ? *parsed : Json::object();
    return a;
}

}  // namespace fracta::gw
