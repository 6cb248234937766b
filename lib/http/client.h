// client.h — the HTTP client fracta's thin clients, the gateway and the
// provider use to reach fracta daemons (over TCP or a Unix socket), on libcurl.
//
// One Client holds one curl handle and reuses its connections; it is not
// thread-safe (one Client per thread). Any HTTP status is a successful Result
// — the caller decides what a 404 means; transport failures (refused,
// timeout, name not found, connection cut) are temporary errors, one line
// naming the URL or socket and curl's reason. The bearer token never appears
// in an error message. libcurl is initialised when the first Client is made,
// so programs that never speak HTTP never pay for it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace fracta::http {

struct ClientOptions {
    std::string unix_socket;                   // set: connect here (any path length)
    std::chrono::milliseconds timeout{30000};  // whole request; streams: longest silence (0: none)
    std::chrono::milliseconds connect_timeout{5000};
    std::string bearer_token;        // sent as "Authorization: Bearer <token>"
    size_t max_response = 64 << 20;  // a longer body is an error
    bool use_proxy_env = false;      // honour http_proxy & co. (off: fracta talks to its own services)
    // TLS for https URLs. PEM text goes to libcurl in memory (blobs), so keys
    // never touch the file system.
    std::string ca_pem;                  // trust only these CAs (empty: the system's)
    bool insecure_skip_verify = false;   // no peer or host name check at all
    std::string client_cert_pem;         // client certificate (with client_key_pem)
    std::string client_key_pem;
};

struct ClientResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-cased; repeated headers joined by ", "

    std::string header(const std::string& lower_name, const std::string& fallback = "") const;
};

// What a request may carry beyond method, path and body (request() and
// stream() take one; the defaults change nothing).
struct RequestExtras {
    std::vector<std::pair<std::string, std::string>> headers;  // extra request headers, sent as given
    // Called once the final status line and headers are in, before any of
    // the body (the response it is given has no body yet).
    std::function<void(const ClientResponse& head)> on_head;
    // Polled while the transfer runs (at least once a second, also while the
    // peer is silent); returning true abandons it with a temporary error
    // "… cancelled". Lets another thread stop a long stream.
    std::function<bool()> cancelled;
    // Set: replaces options.timeout for this request (0: none).
    std::optional<std::chrono::milliseconds> timeout;
};

// A connection that left HTTP behind after "101 Switching Protocols"
// (Client::upgrade): bytes both ways, never blocking on reads.
class ByteStream {
public:
    virtual ~ByteStream() = default;
    // Poll it for POLLIN; receive() then takes everything that has arrived
    // (TLS records already read included, which poll cannot see).
    virtual int fd() const = 0;
    // What has arrived ("" when nothing has); nullopt once the peer closed.
    virtual Result<std::optional<std::string>> receive() = 0;
    virtual Status send(std::string_view data) = 0;
};

struct Upgrade {
    ClientResponse response;             // status and headers; the body too when the answer is not 101
    std::unique_ptr<ByteStream> stream;  // set when the server switched (101)
};

class Client {
public:
    // "http://127.0.0.1:9090", or "http://localhost" with unix_socket set. A
    // trailing '/' is dropped; paths given to request() start with '/'.
    explicit Client(std::string base_url, ClientOptions o = {});
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Any method. A non-empty body (or POST/PUT/PATCH) is sent with
    // `content_type`.
    Result<ClientResponse> request(const std::string& method, const std::string& path_and_query,
                                   const std::string& body = "", const std::string& content_type = "application/json",
                                   const RequestExtras& extras = {});
    Result<ClientResponse> get(const std::string& path_and_query);
    Result<ClientResponse> post_json(const std::string& path_and_query, const Json& body);

    // Like request(), but the body goes to `on_data` as it arrives (the
    // response's body stays empty) — for SSE and other long streams. Return
    // false from `on_data` to stop early (still a success). options.timeout is
    // the longest silence tolerated, not a limit on the whole stream.
    Result<ClientResponse> stream(const std::string& method, const std::string& path_and_query,
                                  const std::function<bool(std::string_view data)>& on_data,
                                  const std::string& body = "", const std::string& content_type = "application/json",
                                  const RequestExtras& extras = {});

    // GET `path_and_query` asking to switch protocols ("Connection:
    // Upgrade", "Upgrade: <protocol>", extras.headers), on a connection of
    // its own that the returned stream keeps. Goes through no HTTP proxy.
    Result<Upgrade> upgrade(const std::string& path_and_query, const std::string& protocol,
                            const RequestExtras& extras = {});

    const std::string& base_url() const;

    // Replace the client certificate for later requests (credentials that
    // rotate); libcurl opens a new connection for a changed certificate.
    void set_client_certificate(std::string cert_pem, std::string key_pem);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace fracta::http
