// mailbox.h — messages between agents (and from people to agents): send,
// and read-and-consume through a per-reader cursor, so a message is read
// once even when several control plane replicas serve the reader.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "store/store.h"

namespace fracta::cp {

struct Message {
    int64_t id = 0;
    std::string from, to, content, created_at;
    Json to_json() const;
};

class Mailbox {
public:
    explicit Mailbox(store::Store& store) : store_(store) {}

    Result<int64_t> send(const std::string& from, const std::string& to, const std::string& content);
    // Every message to `task` after its cursor, oldest first; the cursor
    // moves past them in the same transaction.
    Result<std::vector<Message>> consume(const std::string& task);

private:
    store::Store& store_;
};

}  // namespace fracta::cp
