// The qtest protocol (QEMU's device test harness): a line protocol over a chardev that reads
// and writes guest memory and I/O ports, steps the clock and reports interrupt lines.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hw/irq.h"
#include "system/chardev/chardev.h"
#include "system/vm.h"

namespace corvid {

class QtestSession : public IrqObserver {
public:
    // Asynchronous messages ("IRQ raise N\n") go out through `async_send` (any thread the
    // device runs in; may be empty: then they are only counted in irq_event's result).
    using Sender = std::function<void(const std::string&)>;
    explicit QtestSession(Vm& vm, Sender async_send = {}) : vm_(vm), async_send_(std::move(async_send)) {}
    // Gives intercepted lines back to their device. The machine must be quiescent.
    ~QtestSession() override;
    QtestSession(const QtestSession&) = delete;
    QtestSession& operator=(const QtestSession&) = delete;

    // One command line (without the newline) -> the reply line (with "\n"). The caller makes
    // the machine quiescent first.
    std::string execute(const std::string& line);

    // An intercepted interrupt line changed: the asynchronous "IRQ raise N" / "IRQ lower N".
    // Empty when nothing is intercepted or the level did not change.
    std::string irq_event(int line, bool level);

    // IrqObserver: a device reports an intercepted line (in the thread that runs devices).
    void irq_changed(int line, bool level) override;

    // Stops intercepting (the device gets its lines back). The machine must be quiescent.
    void release_intercept();

private:
    std::string intercept(const std::vector<std::string>& words);

    Vm& vm_;
    Sender async_send_;
    std::string intercepted_;  // QOM path of the intercepted device ("" none)
    IrqInterceptTarget* target_ = nullptr;
    int irq_levels_[256] = {};
    int64_t clock_ns_ = 0;  // used when the board has no virtual clock
};

// Binds a session to a chardev (-qtest SPEC): lines in, replies out, one session per peer.
class QtestServer {
public:
    QtestServer(Vm& vm, Chardev& chr) : vm_(vm), chr_(chr) {}
    ~QtestServer();
    Status start();
    // Sends an asynchronous IRQ event for the current session (any thread).
    void irq_changed(int line, bool level);

private:
    void received(const uint8_t* data, size_t size);
    void send(const std::string& s);
    // Replaces the session with the machine quiescent (the old one releases its intercept).
    void replace_session(bool open);

    Vm& vm_;
    Chardev& chr_;
    // Recursive: a device may raise an interrupt (irq_changed) while a command runs.
    std::recursive_mutex mu_;
    std::unique_ptr<QtestSession> session_;
    std::string line_;
    bool started_ = false;
};

}  // namespace corvid
