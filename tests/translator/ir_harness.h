// Runs hand-built IR blocks through the interpreter backend without an engine (pure ops,
// guest state, branches and helpers; no memory).
#pragma once

#include <gtest/gtest.h>

#include <cstring>

#include "translator/engine.h"
#include "translator/ir/verify.h"

namespace corvid::test {

struct StateCpu {
    CpuCommon common;
    alignas(8) uint8_t state[256] = {};

    StateCpu() {
        for (auto& e : common.tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
    }
    uint64_t get(uint32_t off, unsigned bytes = 8) const {
        uint64_t v = 0;
        std::memcpy(&v, reinterpret_cast<const uint8_t*>(this) + off, bytes);
        return v;
    }
    void set(uint32_t off, uint64_t v, unsigned bytes = 8) {
        std::memcpy(reinterpret_cast<uint8_t*>(this) + off, &v, bytes);
    }
};
constexpr uint32_t kState = offsetof(StateCpu, state);

// Verifies, compiles and runs `block` once on `cpu`.
inline ExitInfo run_interp(const ir::Block& block, StateCpu& cpu) {
    Status s = ir::verify(block);
    EXPECT_TRUE(s.ok()) << s.error();
    auto backend = make_interp_backend();
    TranslatedBlock tb;
    tb.guest_pc = block.guest_pc;
    tb.guest_insns = block.guest_insns;
    EXPECT_TRUE(backend->compile(block, tb).ok());
    ExitInfo e = backend->execute(&cpu.common, &tb);
    backend->release(tb);
    return e;
}

}  // namespace corvid::test
