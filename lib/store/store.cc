#include "store/store.h"

namespace fracta::store {

int64_t Row::integer(size_t i) const {
    const Value& v = columns.at(i);
    if (auto p = std::get_if<int64_t>(&v)) return *p;
    if (auto s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
    return 0;
}

std::string Row::text(size_t i) const {
    const Value& v = columns.at(i);
    if (auto s = std::get_if<std::string>(&v)) return *s;
    if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
    return "";
}

std::string postgres_placeholders(std::string_view sql) {
    std::string out;
    int n = 0;
    char quote = 0;
    for (char c : sql) {
        if (quote) {
            if (c == quote) quote = 0;
            out += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            out += c;
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++n);
        } else {
            out += c;
        }
    }
    return out;
}

Result<std::unique_ptr<Store>> open(const std::string& url, const std::string& application_name) {
    std::string_view u = url;
    if (u.rfind("sqlite:", 0) == 0) {
        std::string path(u.substr(7));
        if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite:///abs → /abs
        if (path.empty()) return usage_error("bad store URL \"" + url + "\": sqlite: needs a file path");
        auto store = open_sqlite(path);
        if (!store.ok()) return std::move(store).take_error();
        FRACTA_TRY(migrate(**store));
        return store;
    }
    if (u.rfind("postgres://", 0) == 0 || u.rfind("postgresql://", 0) == 0) {
        auto store = open_postgres(url, application_name);
        if (!store.ok()) return std::move(store).take_error();
        FRACTA_TRY(migrate(**store));
        return store;
    }
    if (u.rfind("k8s:", 0) == 0)
        return usage_error("bad store URL \"" + url + "\": the k8s: ConfigMap store is not available in this build");
    return usage_error("bad store URL \"" + url + "\": use sqlite:/path/file.db or postgres://…");
}

}  // namespace fracta::store
