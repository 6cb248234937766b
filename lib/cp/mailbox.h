// mailbox.h — messages between agents (and from people to agents): send,
// and read-and-consume through a per-reader cursor, so a message is read
// once even when several control plane replicas serve the reader.
//
// Bounded (agents.mailbox_max): a send to a mailbox holding that many unread
// messages is refused, and read messages are deleted as they are consumed,
// so the table holds at most max unread messages per agent.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "config/config.h"
#include "store/store.h"

namespace fracta::cp {

struct Message {
    int64_t id = 0;
    std::string from, to, content, created_at;
    Json to_json() const;
};

// agents.mailbox_max of a loaded (validated) config: 1000 when not set.
int64_t mailbox_max(const config::Config& config);

class Mailbox {
public:
    // max_unread: the cap on a mailbox's unread messages (0: none).
    explicit Mailbox(store::Store& store, int64_t max_unread = 0) : store_(store), max_unread_(max_unread) {}

    // The new message's id (ids start at 1), or 0 when `to` already holds
    // max_unread unread messages: nothing was stored.
    Result<int64_t> send(const std::string& from, const std::string& to, const std::string& content);
    // Every message to `task` after its cursor, oldest first; the cursor
    // moves past them, and they are deleted, in the same transaction.
    Result<std::vector<Message>> consume(const std::string& task);

private:
    // Lock `task`'s cursor row (made if missing) and return its last id:
    // sends and consumes of one mailbox take turns.
    Result<int64_t> lock_cursor(const std::string& task);

    store::Store& store_;
    int64_t max_unread_;
};

}  // namespace fracta::cp
