// QMP (the JSON machine protocol): one session per connection, capabilities negotiation,
// command dispatch with QEMU's error classes, and events.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "system/monitor/json_stream.h"
#include "system/vm.h"

namespace corvid {

struct QmpError {
    std::string cls;  // "GenericError", "CommandNotFound", "DeviceNotFound"
    std::string desc;
};

// What a command handler returns: a value for "return", or an error.
class QmpResult {
public:
    QmpResult(Json v) : value_(std::move(v)) {}
    QmpResult(QmpError e) : error_(std::move(e)), failed_(true) {}
    bool ok() const { return !failed_; }
    const Json& value() const { return value_; }
    const QmpError& error() const { return error_; }

private:
    Json value_;
    QmpError error_;
    bool failed_ = false;
};

inline QmpError generic_error(std::string desc) {
    return {"GenericError", std::move(desc)};
}

// A command's declared arguments: checked before the handler runs.
struct QmpArg {
    const char* name;
    char kind;  // 's' string, 'i' integer, 'b' bool, 'o' object, 'a' any
    bool required;
};

struct QmpCommand {
    const char* name;
    std::vector<QmpArg> args;
    bool extra_args;  // device_add / object-add: any further key is a property
    std::function<QmpResult(Vm& vm, const Json& args)> handler;
};

// The command table (system/monitor/qmp_commands.cpp).
const std::vector<QmpCommand>& qmp_commands();

class QmpSession {
public:
    using Send = std::function<void(const std::string& line)>;  // one JSON text, no newline

    QmpSession(Vm& vm, Send send);
    ~QmpSession();
    QmpSession(const QmpSession&) = delete;
    QmpSession& operator=(const QmpSession&) = delete;

    // Sends the greeting.
    void start();
    // Bytes from the peer; replies go to `send`.
    void feed(const uint8_t* data, size_t size);
    // One request (already parsed); returns the response (tests use this directly).
    Json handle(const Json& request);
    bool negotiated() const { return negotiated_; }

private:
    void send_json(const Json& j);

    Vm& vm_;
    JsonStreamer streamer_;
    bool negotiated_ = false;
    // Shared with the event sink so that events never reach a destroyed session.
    struct Out {
        std::mutex mu;
        Send send;
        bool live = true;
    };
    std::shared_ptr<Out> out_;
    int sink_ = 0;
};

// The greeting object.
Json qmp_greeting();

}  // namespace corvid
