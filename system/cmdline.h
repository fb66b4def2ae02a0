// QEMU-compatible command-line parsing into a Config (no policy decisions, no side effects).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/options.h"
#include "base/result.h"

namespace corvid {

// One option occurrence with its text, kept for error locations ("-device foo,bar=1: ...").
struct OptionArg {
    std::string option;  // e.g. "-device"
    std::string text;    // the argument as given
    OptionList opts;
    std::string location() const { return option + " " + text; }
};

struct Config {
    std::vector<OptionArg> machine;   // every -machine/-M, merged in order
    std::vector<OptionArg> accel;     // every -accel (and -enable-kvm)
    std::vector<OptionArg> devices;
    std::vector<OptionArg> compat;
    std::optional<OptionArg> memory;  // -m
    std::optional<OptionArg> smp;
    std::string cpu;
    std::string kernel, append, initrd;
    std::vector<std::string> serial;  // -serial values in order
    std::string display;              // -display value
    bool nographic = false;
    bool start_stopped = false;       // -S
    bool no_reboot = false;
    bool no_shutdown = false;
    bool semihosting = false;
    std::string log_items;            // -d
    std::string log_file;             // -D
    bool show_version = false;
    bool show_help = false;
    std::vector<OptionArg> chardevs;  // -chardev backend,id=...
    std::vector<OptionArg> netdevs;   // -netdev type,id=...
    std::vector<OptionArg> nics;      // -nic type,model=...
    std::string watchdog_action;      // -watchdog-action
    std::vector<OptionArg> objects;   // -object type,id=...
    std::vector<OptionArg> mons;      // -mon chardev=ID,mode=...
    std::vector<std::string> monitors;  // -monitor specs (readline)
    std::vector<std::string> qmps;      // -qmp specs (control)
    std::string qtest;                // -qtest spec
    bool security_report = false;     // -security-report: evaluate, print the report, exit
    // Help requests: "-machine help", "-accel help", "-device help", "-cpu help", "-d help".
    bool help_machine = false, help_accel = false, help_device = false, help_cpu = false, help_log = false;
    bool help_chardev = false, help_object = false;
};

// Parses argv (argv[0] excluded). Errors are one line with QEMU's wording and location.
Result<Config> parse_command_line(const std::vector<std::string>& args);

std::string usage_text(const std::string& prog);

}  // namespace corvid
