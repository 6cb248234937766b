#include "cp/mailbox.h"

#include "base/time.h"

namespace fracta::cp {

Json Message::to_json() const {
    return {{"id", id}, {"from", from}, {"to", to}, {"message", content}, {"created_at", created_at}};
}

int64_t mailbox_max(const config::Config& config) {
    const Json& root = config.document.root;
    if (!root.is_object() || !root.contains("agents") || !root["agents"].is_object()) return 1000;
    const Json& n = root["agents"].value("mailbox_max", Json());
    return n.is_number_integer() ? n.get<int64_t>() : 1000;
}

Result<int64_t> Mailbox::lock_cursor(const std::string& task) {
    FRACTA_TRY(store_.exec("INSERT INTO cursors (task, last_id) VALUES (?, 0) ON CONFLICT (task) DO NOTHING", {task}));
    const char* lock = store_.dialect() == store::Dialect::Postgres
                           ? "SELECT last_id FROM cursors WHERE task = ? FOR UPDATE"
                           : "SELECT last_id FROM cursors WHERE task = ?";
    FRACTA_TRY_ASSIGN(cursor, store_.query(lock, {task}));
    return cursor.empty() ? int64_t{0} : cursor[0].integer(0);
}

Result<int64_t> Mailbox::send(const std::string& from, const std::string& to, const std::string& content) {
    int64_t id = 0;
    FRACTA_TRY(store_.transaction([&]() -> Status {
        id = 0;
        if (max_unread_ > 0) {
            // Under the cursor's lock, so two sends cannot both take the last place.
            FRACTA_TRY_ASSIGN(last, lock_cursor(to));
            FRACTA_TRY_ASSIGN(unread, store_.query("SELECT COUNT(*) FROM messages WHERE to_task = ? AND id > ?",
                                                   {to, last}));
            if (!unread.empty() && unread[0].integer(0) >= max_unread_) return {};
        }
        FRACTA_TRY_ASSIGN(rows, store_.query("INSERT INTO messages (from_task, to_task, content, created_at)"
                                             " VALUES (?, ?, ?, ?) RETURNING id",
                                             {from, to, content, format_rfc3339(now())}));
        if (rows.empty()) return failure("mailbox: no id for the new message");
        id = rows[0].integer(0);
        return {};
    }));
    return id;
}

Result<std::vector<Message>> Mailbox::consume(const std::string& task) {
    std::vector<Message> out;
    FRACTA_TRY(store_.transaction([&]() -> Status {
        out.clear();
        // Lock the reader's cursor row first, so two readers never both
        // consume the same messages.
        FRACTA_TRY_ASSIGN(last, lock_cursor(task));
        FRACTA_TRY_ASSIGN(rows, store_.query("SELECT id, from_task, to_task, content, created_at FROM messages"
                                             " WHERE to_task = ? AND id > ? ORDER BY id",
                                             {task, last}));
        for (const auto& r : rows) out.push_back({r.integer(0), r.text(1), r.text(2), r.text(3), r.text(4)});
        if (!out.empty()) {
            FRACTA_TRY(store_.exec("UPDATE cursors SET last_id = ? WHERE task = ?", {out.back().id, task}));
            // Read once: what is read goes, so only unread messages take room.
            FRACTA_TRY(store_.exec("DELETE FROM messages WHERE to_task = ? AND id <= ?", {task, out.back().id}));
        }
        return {};
    }));
    return out;
}

}  // namespace fracta::cp
