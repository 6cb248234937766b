// objects_names.h — the names fracta gives a session's Kubernetes objects,
// and the encodings its objects need (spec/kubernetes.md).
//
// Raw session names (letters, digits, '_' and '-') are not all valid
// Kubernetes names: object names are DNS-1123 (lower case, no '_'), label
// values have their own rules, and both have length limits. Sanitising must
// stay collision-free, so whenever it changes or truncates a name a short
// hash of the raw name is appended. The raw name itself always travels in
// the `fracta/session-name` annotation.
//
// Workspace files travel in a ConfigMap whose keys may only hold
// [-._a-zA-Z0-9]: paths are encoded `/` → `--` and a leading `.` of a path
// component → `dot-`, and everything else that could make decoding ambiguous
// (a literal '-' next to another '-' or at a component's edge, a literal
// "dot-" prefix, '_' and any other byte) is escaped as `_XX` (hex). The
// supervisor in the agent pod decodes the keys back into paths.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/json.h"
#include "base/result.h"

namespace fracta::k8s {

inline constexpr size_t kMaxLabelValue = 63;  // label values, DNS-1123 labels
inline constexpr size_t kMaxConfigMapKey = 253;
inline constexpr size_t kMaxConfigMapBytes = 1u << 20;  // the API server's cap on a ConfigMap

struct ObjectNames {
    std::string raw;         // the session name as given
    std::string dns;         // DNS-1123 label form, at most 49 characters
    std::string label;       // the value of the fracta-agent-id label
    std::string config_map;  // fracta-config-<dns>
    std::string secret;      // fracta-auth-<dns>
    std::string job;         // fracta-agent-<dns> (batch)
    std::string pod;         // fracta-stream-<dns> (stream)
};

// Every derived name of a session. The raw name must be a valid session
// name (session::validate_name): usage error otherwise.
Result<ObjectNames> object_names(const std::string& raw);

// The DNS-1123 label form of a raw name, at most `max` characters (≥ 10):
// lower-cased, other characters → '-', trimmed; with "-<8 hex of sha256>"
// appended when that changed or truncated it.
std::string dns_label_name(std::string_view raw, size_t max);

// The label-value form: the raw name when it is a valid label value, else
// sanitised like dns_label_name (case kept) with the hash appended.
std::string label_value_name(std::string_view raw);

// True when `value` is a valid label value (empty is valid).
bool valid_label_value(std::string_view value);
// True for a label or annotation key: [prefix/]name, prefix a DNS subdomain.
bool valid_qualified_key(std::string_view key);
// True for an object's name (a DNS-1123 subdomain): a Secret's, a claim's.
bool valid_object_name(std::string_view name);
// True for a key of a Secret or ConfigMap: [-._a-zA-Z0-9]+.
bool valid_secret_key(std::string_view key);

// Workspace file path ↔ ConfigMap key. encode_file_key drops empty and "."
// components (as session::write_files does) and refuses "..", empty paths
// and keys longer than a ConfigMap allows. decode_file_key is its inverse
// and refuses keys it could not have produced.
Result<std::string> encode_file_key(const std::string& path);
Result<std::string> decode_file_key(const std::string& key);

// What the supervisor restores: ConfigMap keys (the file names under the
// mounted volume) → contents, decoded into relative path → contents. Keys
// the kubelet adds to the volume ("..data", "..2024_…") are skipped.
Result<std::map<std::string, std::string>> decode_file_keys(const std::map<std::string, std::string>& entries);

// A value of a Secret as returned by the API server (`data`, or
// `stringData` on objects that have not been stored yet); Failed if absent.
Result<std::string> secret_value(const Json& secret, const std::string& key);

}  // namespace fracta::k8s
