// leases.h — sending lost claims back to the queue, shared by the workers
// (between claims) and fracta-reap (step 1 of a pass).
//
// A mission whose lease ran out goes back to pending while it has attempts
// left; past max_attempts it fails, and so does its agent (reason "lease
// expired"), so that nothing stays Running with no one following it.
#pragma once
#include <vector>

#include "agents/agents.h"
#include "base/result.h"
#include "queue/queue.h"

namespace fracta::agents {

Result<std::vector<queue::Mission>> expire_leases(queue::Queue& queue, Agents& agents);

}  // namespace fracta::agents
