#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "proc/run.h"

namespace fracta::test {
namespace {

struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
        for (const auto& d : dirs) std::filesystem::remove_all(d);
    }
};
Cleanup cleanup;
std::atomic<int> counter{0};

}  // namespace

std::string source_root() {
    if (const char* root = std::getenv("FRACTA_SOURCE"); root && *root) return root;
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string();
}

std::string bin_dir() {
    if (const char* bin = std::getenv("FRACTA_BIN"); bin && *bin) return bin;
    return source_root() + "/build/bin";
}

std::string binary(const std::string& name) {
    std::string path = bin_dir() + "/" + name;
    INFO(path << " (set FRACTA_BIN)");
    REQUIRE(std::filesystem::exists(path));
    return path;
}

std::string temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/fracta-unit-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    REQUIRE(mkdtemp(buf.data()) != nullptr);
    cleanup.dirs.emplace_back(buf.data());
    return buf.data();
}

BoundPort::BoundPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
}

BoundPort::~BoundPort() { ::close(fd_); }

yaml::EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string slurp(const std::string& path) {
    std::ostringstream s;
    s << std::ifstream(path, std::ios::binary).rdbuf();
    return s.str();
}

void write_script(const std::string& path, const std::string& text) {
    REQUIRE(std::ofstream(path, std::ios::binary) << text);
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
}

std::string sh(const std::string& dir, const std::string& line) {
    auto c = proc::shell(line);
    c.cwd = dir;
    auto r = proc::run(c);
    if (!r.ok()) FAIL(r.error().message);
    if (!r->ok()) FAIL(line + ": " + r->err);
    return r->out;
}

std::string fresh_postgres_url() {
    const char* url = std::getenv("FRACTA_TEST_PG_URL");
    if (!url || !*url) FAIL("FRACTA_TEST_PG_URL is not set: run the suite through `make test` (ctest starts Postgres)");
    auto admin = store::open_postgres(url, "fracta-unit");
    if (!admin.ok()) FAIL("cannot reach the test Postgres: " + admin.error().message);
    std::string db = "u" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    // One statement each: CREATE DATABASE refuses to run inside a transaction.
    REQUIRE((*admin)->exec("DROP DATABASE IF EXISTS " + db).ok());
    Status created = (*admin)->exec("CREATE DATABASE " + db);
    if (!created.ok()) FAIL(created.error().message);
    // postgresql://postgres@/postgres?host=… → …@/<db>?host=…
    std::string u = url;
    auto slash = u.find('/', u.find("://") + 3);
    auto query = u.find('?', slash);
    return u.substr(0, slash + 1) + db + (query == std::string::npos ? "" : u.substr(query));
}

std::vector<NamedStore> fresh_stores() {
    std::vector<NamedStore> stores;
    std::string sqlite_url = "sqlite:" + temp_dir() + "/state.db";
    auto s = store::open(sqlite_url);
    REQUIRE(s.ok());
    stores.push_back({"sqlite", sqlite_url, std::move(*s)});

    std::string pg_url = fresh_postgres_url();
    auto p = store::open(pg_url);
    if (!p.ok()) FAIL("open " + pg_url + ": " + p.error().message);
    stores.push_back({"postgres", pg_url, std::move(*p)});
    return stores;
}

}  // namespace fracta::test
