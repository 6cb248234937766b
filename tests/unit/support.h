// support.h — what the unit suites share: temp directories and fresh stores
// of both kinds, so that every store-level contract runs on sqlite and on a
// real Postgres (FRACTA_TEST_PG_URL, started by ctest's pg fixture).
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "config/yaml.h"
#include "store/store.h"

namespace fracta::test {

// The repository ($FRACTA_SOURCE, else derived from this file's path) and
// the binaries under test ($FRACTA_BIN, else <repo>/build/bin).
std::string source_root();
std::string bin_dir();

// bin_dir()'s `name`, which must be there (else the test fails).
std::string binary(const std::string& name);

// A new empty directory under $TMPDIR, removed at exit.
std::string temp_dir();

// The value of a call that must succeed (Result<T>, Status, k8s::ApiResult<T>);
// otherwise the test fails with the error's one line.
template <template <class> class R, class T>
T ok(R<T> r) {
    if (!r.ok()) FAIL(r.error().message);
    if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

// A loopback TCP port bound but not listened on: connecting to it is
// refused, and nobody else can take it while this lives. Once destroyed, the
// port is free for a server the test starts there.
class BoundPort {
public:
    BoundPort();
    ~BoundPort();
    BoundPort(const BoundPort&) = delete;
    BoundPort& operator=(const BoundPort&) = delete;
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

// An environment of exactly these variables, for ${VAR} expansion.
yaml::EnvLookup env_of(std::map<std::string, std::string> vars);

// A file's whole content ("" when it cannot be read).
std::string slurp(const std::string& path);

// A file of `text` with mode 0755 (a script the test has something run).
void write_script(const std::string& path, const std::string& text);

// Run a shell line in `dir`; it must succeed (else the test fails). Its stdout.
std::string sh(const std::string& dir, const std::string& line);

struct NamedStore {
    std::string kind;  // "sqlite" | "postgres"
    std::string url;
    std::unique_ptr<store::Store> store;
};

// A fresh sqlite file and a fresh Postgres database (each call: new ones).
// Fails the test when Postgres is not configured: never a silent skip.
std::vector<NamedStore> fresh_stores();

// The URL of a new, empty Postgres database on the test server.
std::string fresh_postgres_url();

}  // namespace fracta::test
