// A monitor bound to a chardev: QMP (mode=control) or HMP (mode=readline). Runs in the
// chardev's I/O thread; each command is handed to the vCPU thread (RunControl::run_on_vcpu).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "system/chardev/chardev.h"
#include "system/monitor/hmp.h"
#include "system/monitor/qmp.h"
#include "system/vm.h"

namespace corvid {

class Monitor {
public:
    enum class Mode : uint8_t { kControl, kReadline };

    Monitor(Vm& vm, Chardev& chr, Mode mode) : vm_(vm), chr_(chr), mode_(mode) {}
    ~Monitor();
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    // Attaches to the chardev (the greeting or banner goes out when a peer is there).
    Status start();
    // Stops handling input (waits for a command in progress).
    void stop();
    Mode mode() const { return mode_; }

private:
    void opened();
    void received(const uint8_t* data, size_t size);
    void closed();
    void focus(bool in);
    void send_line(const std::string& text);

    Vm& vm_;
    Chardev& chr_;
    Mode mode_;
    std::unique_ptr<QmpSession> qmp_;
    std::unique_ptr<Hmp> hmp_;
    std::string line_;
    bool started_ = false;
};

// Parses a -mon option ("chardev=ID,mode=control|readline[,pretty=on]").
struct MonOption {
    std::string chardev;
    Monitor::Mode mode = Monitor::Mode::kReadline;
};
Result<MonOption> parse_mon_option(const OptionList& opts);

}  // namespace corvid
