// tool.cc — fracta-events' command line: the store chosen from --store and
// the environment (opened only once the input is good), then one operation
// of provider.h.
#include "events/tool.h"

#include <filesystem>
#include <memory>

#include "events/provider.h"

namespace fracta::events {
namespace {

Result<int> dispatch(const Call& call) {
    std::unique_ptr<Backend> store;
    StoreOpener open_store = [&]() -> Result<Backend*> {
        FRACTA_TRY_ASSIGN(choice, choose_store(call.args.get("store"), std::filesystem::current_path()));
        for (const std::string& w : choice.warnings) call.io.warn(w);
        FRACTA_TRY_ASSIGN(opened, open_backend(choice.url, {call.args.get("kubeconfig"), call.args.get("context"), choice.retention}));
        store = std::move(opened);
        return store.get();
    };
    FRACTA_TRY(run(call.op, call.words, open_store, call.io, call.text));
    return kExitOk;
}

}  // namespace

const Tool& tool() {
    static const Tool t{
        .command =
            {"fracta-events",
             "[--store URL] [--format json|text] OP [ARGS]",
             "The fracta event log, and a Gas City events provider (GC_EVENTS=exec:fracta-events).",
             {{"store", 's', "URL", "sqlite:/path/events.db, postgres://… or k8s:[NAMESPACE] (default: see STORE)"},
              {"kubeconfig", 0, "FILE",
               "k8s: stores: the kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)"},
              {"context", 0, "NAME", "k8s: stores: the kubeconfig context (default its current-context)"},
              {"format", 0, "FORMAT", "json (default) or text, for list, query and watch"}},
             {{"ensure-running", "create the store if it is missing"},
              {"record", "append the event JSON on stdin; assigns seq, fills a zero ts"},
              {"list", "print the events matching the filter JSON on stdin, as a JSON array"},
              {"latest-seq", "print the highest seq (0 when empty)"},
              {"watch [AFTER_SEQ]", "print events with seq > AFTER_SEQ, then new ones, as NDJSON"},
              {"query [OPTIONS]", "NDJSON of matching events: --subject --type --actor --since --after-seq --limit"},
              {"tail [-n N] [-f]", "the last N events for people; -f follows"}},
             "store: --store, else FRACTA_EVENTS_STORE, else runtime.state of the nearest fracta.yaml,\n"
             "else sqlite:$XDG_STATE_HOME/fracta/events.db. k8s:[NAMESPACE] keeps the events in ConfigMaps\n"
             "(the layout of Gas City's gc-events-k8s; namespace default: the client config's)."},
        .style = OpStyle::First,
        .format = "json",
        .unknown_op_unsupported = true,  // Gas City reads exit 2 as "not supported": success, empty
        .exits = {{ErrorKind::Failed, "failed"},
                  {ErrorKind::Unsupported, "unknown operation"},
                  {ErrorKind::Usage, "bad usage or input"},
                  {ErrorKind::Temporary, "store unavailable (retry)"}},
        .run = dispatch,
    };
    return t;
}

}  // namespace fracta::events
