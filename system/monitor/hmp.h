// HMP, the human monitor: one command line in, text out ("(qemu) " prompt, "Error: ..." lines).
#pragma once

#include <string>

#include "system/vm.h"

namespace corvid {

inline constexpr const char* kHmpPrompt = "(qemu) ";

class Hmp {
public:
    explicit Hmp(Vm& vm) : vm_(vm) {}

    // The banner printed when a peer connects (without the prompt).
    static std::string banner();

    // Runs one command line and returns its output (every line ends in '\n'). The caller makes
    // the machine quiescent first (see system/monitor/README.md).
    std::string execute(const std::string& line);

private:
    std::string info(const std::string& what);
    std::string memory_dump(const std::string& cmd, const std::string& args);

    Vm& vm_;
    // x/xp remember the last format, as QEMU does.
    char last_format_ = 'x';
    unsigned last_size_ = 4;
};

}  // namespace corvid
