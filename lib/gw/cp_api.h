// cp_api.h — the gateway's line to the control plane: JSON requests over a
// small pool of HTTP connections (an http::Client serves one thread at a
// time), with the control plane's bearer token when one is configured.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "http/client.h"

namespace fracta::gw {

struct CpAnswer {
    int status = 0;
    Json body;  // the parsed body; {} when empty or not JSON

    bool ok() const { return status >= 200 && status < 300; }
    // The API's {"error"} text, else "HTTP <status>".
    std::string error() const;
};

class ControlPlane {
public:
    ControlPlane(std::string url, std::string token, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Any HTTP status is an answer; a transport failure is a Temporary error.
    Result<CpAnswer> call(const std::string& method, const std::string& path, const Json& body = Json());
    const std::string& url() const { return url_; }

private:
    std::unique_ptr<http::Client> take();
    void give_back(std::unique_ptr<http::Client> client);

    std::string url_, token_;
    std::chrono::milliseconds timeout_;
    std::mutex mu_;
    std::vector<std::unique_ptr<http::Client>> idle_;
};

}  // namespace fracta::gw
