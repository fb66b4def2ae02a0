// Runs hand-built IR blocks through the x86-64 JIT without an engine: a CPU state with a
// scratch area, a small guest RAM reachable through the TLB, and counting slow-path hooks.
#pragma once

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "backend/x64/x64_backend.h"
#include "translator/ir/verify.h"

namespace corvid::jittest {

struct JitCpu {
    CpuCommon common;
    alignas(8) uint8_t state[1024] = {};

    JitCpu() {
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
constexpr uint32_t kState = offsetof(JitCpu, state);
constexpr uint32_t st(unsigned k) { return kState + 8 * k; }  // 8-byte state slot k

// Guest RAM at kRamVa mapped in the TLB (optionally), with slow paths that count calls.
constexpr uint64_t kRamVa = 0x40000000;
constexpr size_t kRamBytes = 4 * kPageSize;
struct Ram {
    alignas(4096) uint8_t bytes[kRamBytes] = {};
    unsigned slow_loads = 0, slow_stores = 0;
    uint64_t last_pc = 0;
};
inline Ram* g_ram = nullptr;

inline uint64_t test_slow_load(CpuCommon* cpu, uint64_t va, uint64_t flags, uint64_t pc) {
    Ram& r = *g_ram;
    ++r.slow_loads;
    r.last_pc = pc;
    EXPECT_EQ(cpu->pc, pc);
    unsigned size = ir::mem_size_bytes(flags);
    uint64_t v = 0;
    if (va >= kRamVa && va + size <= kRamVa + kRamBytes) std::memcpy(&v, r.bytes + (va - kRamVa), size);
    if ((flags & ir::kMemSigned) && size < 8) v = uint64_t(int64_t(v << (64 - 8 * size)) >> (64 - 8 * size));
    return v;
}
inline void test_slow_store(CpuCommon* cpu, uint64_t va, uint64_t value, uint64_t flags, uint64_t pc) {
    Ram& r = *g_ram;
    ++r.slow_stores;
    r.last_pc = pc;
    EXPECT_EQ(cpu->pc, pc);
    unsigned size = ir::mem_size_bytes(flags);
    if (va >= kRamVa && va + size <= kRamVa + kRamBytes) std::memcpy(r.bytes + (va - kRamVa), &value, size);
}

class Jit {
public:
    explicit Jit(size_t buffer = 1u << 20, bool count = false) : backend(buffer, count) {
        g_ram = &ram;
        backend.set_slow_paths(test_slow_load, test_slow_store);
    }
    ~Jit() { g_ram = nullptr; }

    void map_ram(JitCpu& cpu, bool writable = true) {
        for (uint64_t va = kRamVa; va < kRamVa + kRamBytes; va += kPageSize) {
            TlbEntry& e = cpu.common.tlb[(va >> kPageBits) & (kTlbEntries - 1)];
            e.read_tag = va;
            e.write_tag = writable ? va : kTlbInvalid;
            e.code_tag = va;
            e.addend = uint64_t(reinterpret_cast<uintptr_t>(ram.bytes)) - kRamVa;
        }
    }

    // Compiles (after verification) into a fresh TranslatedBlock kept alive by the Jit.
    TranslatedBlock* compile(const ir::Block& block) {
        Status v = ir::verify(block);
        EXPECT_TRUE(v.ok()) << v.error();
        auto& tb = blocks.emplace_back(std::make_unique<TranslatedBlock>());
        tb->guest_pc = block.guest_pc;
        tb->mode = block.mode;
        tb->guest_insns = block.guest_insns;
        Status s = backend.compile(block, *tb);
        EXPECT_TRUE(s.ok()) << s.error();
        return s.ok() ? tb.get() : nullptr;
    }
    ExitInfo run(const ir::Block& block, JitCpu& cpu) {
        TranslatedBlock* tb = compile(block);
        if (!tb) return ExitInfo{};
        return backend.execute(&cpu.common, tb);
    }

    x64::X64Backend backend;
    Ram ram;
    std::vector<std::unique_ptr<TranslatedBlock>> blocks;
};

}  // namespace corvid::jittest
