// Unicorn (QEMU's TCG as a library) as the reference side of the differential fuzzer.
#pragma once

#include <cstdint>
#include <vector>

#include <unicorn/unicorn.h>

#include "tests/a64_diff/diff_types.h"

namespace corvid::a64diff {

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
    // Runs `count` instructions from `init.pc`, after a CLREX at init.pc - 4 that resets the
    // exclusive monitor (Unicorn keeps it across runs).
    Outcome run(const ArchState& init, unsigned count);
    uint8_t* data() { return data_.data(); }

private:
    uc_engine* uc_ = nullptr;
    const char* error_ = "";
    std::vector<uint8_t> data_;
    std::vector<uint8_t> vectors_;
};

}  // namespace corvid::a64diff
