// result.h — the error currency of the library.
//
// Every library call that can fail returns Result<T>: a value or an Error.
// An Error carries a kind and one line of text. The kind maps one-to-one onto
// the exit codes shared by every fracta binary (spec: exec-provider.md), so a
// thin main can turn any failure into the right status without knowing where
// it came from. The library never prints and never exits.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace fracta {

// Exit statuses, defined once for all binaries.
enum class ErrorKind : int {
    Failed = 1,         // failed, or "no"; retrying will not help
    Unsupported = 2,    // operation not supported (callers read: success, empty)
    Usage = 100,        // usage error or invalid input: permanent
    Temporary = 111,    // dependency unreachable, timeout, lock conflict: retry
    CannotExec = 126,   // a program we had to run could not be executed
    NotFound = 127,     // a program we had to run was not found
};

inline constexpr int kExitOk = 0;

inline int exit_code(ErrorKind kind) { return static_cast<int>(kind); }

struct Error {
    ErrorKind kind = ErrorKind::Failed;
    std::string message;  // "<what>: <why>", one line, no trailing period

    // Prefix the message with more context: "open store: " + message.
    Error context(const std::string& what) const& { return {kind, what + ": " + message}; }
    Error context(const std::string& what) && {
        message = what + ": " + message;
        return std::move(*this);
    }
};

inline Error fail(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }
inline Error usage_error(std::string message) { return Error{ErrorKind::Usage, std::move(message)}; }
inline Error temporary_error(std::string message) { return Error{ErrorKind::Temporary, std::move(message)}; }
inline Error failure(std::string message) { return Error{ErrorKind::Failed, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }
    Error take_error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { assert(!ok_); return error_; }
    Error take_error() && { assert(!ok_); return std::move(error_); }

private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace fracta

// Propagate a failed Result from the enclosing function. The expression is
// evaluated once; on success the macro does nothing.
#define FRACTA_TRY(expr)                                        \
    do {                                                        \
        auto&& fracta_try_r_ = (expr);                          \
        if (!fracta_try_r_.ok()) return std::move(fracta_try_r_).take_error(); \
    } while (0)

// Declare `var` from a Result<T> expression, or propagate its error.
#define FRACTA_TRY_ASSIGN(var, expr)                            \
    auto var##_result_ = (expr);                                \
    if (!var##_result_.ok()) return std::move(var##_result_).take_error(); \
    auto var = std::move(var##_result_).value()
