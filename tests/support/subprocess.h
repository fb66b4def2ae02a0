// Runs a Corvid binary as a child process for end-to-end tests: captured output, exit status,
// timeouts, and signals.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace corvid::testing {

struct ProcessResult {
    int exit_status = -1;   // exit code, or -1 when killed by a signal
    int term_signal = 0;    // signal that killed it (0 if it exited)
    bool timed_out = false;
    std::string out, err;
};

// Runs argv with `input` on stdin; kills it (SIGKILL) after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Starts argv, waits `alive_for` and checks it is still running, then sends `sig` and waits
// for it to end. still_running_before_signal tells whether it survived the wait.
struct SignalResult {
    bool still_running_before_signal = false;
    ProcessResult result;
};
SignalResult run_until_signal(const std::vector<std::string>& argv, std::chrono::milliseconds alive_for, int sig);

// The build tree's binaries.
std::string binary(const std::string& name);

// Is /dev/kvm usable by this process? Prints why not (tests then skip loudly).
bool kvm_available(std::string* why);

}  // namespace corvid::testing
