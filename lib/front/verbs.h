// verbs.h — inside lib/front: what every client verb gets, and the verbs
// that follow an agent over time (wait, watch; follow.cc), shared with the
// one-shot verbs of verbs.cc (spawn --wait).
#pragma once

#include <string>

#include "base/json.h"
#include "base/units.h"
#include "cpapi/client.h"
#include "front/front.h"

namespace fracta::front {

struct Context {
    Options options;
    Io& io;
    bool text() const { return options.format == "text"; }
};

// Print an answer: compact JSON, or (text) the object as key: value lines.
Status print(Context& ctx, const Json& answer);

// GET …/wait in slices until the agent is terminal or `total` has passed.
// Prints the agent; Completed is success, Failed and Stopped are failures
// "<status>: <reason>", the timeout a temporary error.
Status wait_for(Context& ctx, cpapi::Client& api, const std::string& task, Duration total);

// Follow …/watch (SSE) from `after_seq`, printing the snapshot and each
// event, reconnecting after drops, until the agent is terminal.
Status watch(Context& ctx, cpapi::Client& api, const std::string& task, uint64_t after_seq);

// objectives.cc: `fracta objectives ACTION …` and `fracta proposals ACTION …`
// (the first operand is the action), and their options.
Status objectives_verb(Context& ctx, const cli::Args& a, const std::vector<std::string>& operands);
Status proposals_verb(Context& ctx, const cli::Args& a, const std::vector<std::string>& operands);
std::vector<cli::Option> objectives_options();
std::vector<cli::Option> proposals_options();

}  // namespace fracta::front
