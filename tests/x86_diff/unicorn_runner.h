// Unicorn (QEMU's TCG as a library, UC_MODE_64) as the reference side of the x86 differential
// fuzzer.
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <vector>

#include "tests/x86_diff/diff_types.h"

namespace corvid::x86diff {

class UnicornRunner {
public:
    // `code` (kCodeSize bytes, shared with the Corvid side) is mapped read/execute only.
    explicit UnicornRunner(uint8_t* code);
    ~UnicornRunner();
    UnicornRunner(const UnicornRunner&) = delete;
    UnicornRunner& operator=(const UnicornRunner&) = delete;

    bool ok() const { return uc_ != nullptr; }
    const char* error() const { return error_; }

    // The code bytes in [addr, addr + size) changed: drop Unicorn's cached translations.
    void code_changed(uint64_t addr, uint64_t size);
    // Runs from init.rip until a HLT (Unicorn stops there with RIP past it), a fault, or
    // `max_insns` instructions (a loop: the outcome's rip is then inside the test code).
    Outcome run(const ArchState& init, unsigned max_insns);
    uint8_t* data() { return data_.data(); }

private:
    uc_engine* uc_ = nullptr;
    const char* error_ = "";
    std::vector<uint8_t> data_;
};

}  // namespace corvid::x86diff
