// The qtest protocol (QEMU's device test harness): a line protocol over a chardev that reads
// and writes guest memory and I/O ports, steps the clock and reports interrupt lines.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "system/chardev/chardev.h"
#include "system/vm.h"

namespace corvid {

class QtestSession {
public:
    explicit QtestSession(Vm& vm) : vm_(vm) {}

    // One command line (without the newline) -> the reply line (with "\n"). The caller makes
    // the machine quiescent first.
    std::string execute(const std::string& line);

    // An intercepted interrupt line changed: the asynchronous "IRQ raise N" / "IRQ lower N".
    // Empty when the line is not intercepted or the level did not change.
    std::string irq_event(int line, bool level);

private:
    Vm& vm_;
    std::string intercepted_;  // QOM path of the intercepted device ("" none)
    int irq_levels_[256] = {};
    int64_t clock_ns_ = 0;  // used when the board has no virtual clock
};

// Binds a session to a chardev (-qtest SPEC): lines in, replies out, one session per peer.
class QtestServer {
public:
    QtestServer(Vm& vm, Chardev& chr) : vm_(vm), chr_(chr) {}
    ~QtestServer();
    Status start();
    // Sends an asynchronous IRQ event (any thread).
    void irq_changed(int line, bool level);

private:
    void received(const uint8_t* data, size_t size);
    void send(const std::string& s);

    Vm& vm_;
    Chardev& chr_;
    // Recursive: a device may raise an interrupt (irq_changed) while a command runs.
    std::recursive_mutex mu_;
    std::unique_ptr<QtestSession> session_;
    std::string line_;
    bool started_ = false;
};

}  // namespace corvid
