// The x86-64 JIT backend (asmjit): compiles IR blocks into one code buffer, runs them through
// a trampoline, chains direct exits, probes a lookup table on indirect ones and predicts
// returns with a return-stack hint ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "translator/backend.h"

namespace corvid {

// Creates the JIT with a code buffer of `code_buffer_bytes` (clamped to [64 KiB, 1 GiB]).
// With `count_insns`, every block adds its guest instruction count to cpu->insn_count at entry.
std::unique_ptr<ExecBackend> make_x64_backend(size_t code_buffer_bytes, bool count_insns = false,
                                              bool return_hints = false);

namespace x64 {

class CodeBuffer;
struct JumpEntry;
struct CompileScratch;

// Softmmu slow paths called by generated code (defaults: corvid_slow_load/corvid_slow_store).
using SlowLoadFn = uint64_t (*)(CpuCommon*, uint64_t va, uint64_t mem_flags, uint64_t pc);
using SlowStoreFn = void (*)(CpuCommon*, uint64_t va, uint64_t value, uint64_t mem_flags, uint64_t pc);

// Cold paths shared by every block (built with the trampoline, once per backend). A block's
// cold stub is a couple of instructions and its data: exits `lea rsi, [data]; jmp thunk` (the
// thunk leaves through the trampoline), slow paths `call thunk; jmp back` (the thunk finds the
// data after the jmp and returns). So a block's cold code is a few bytes per exit or memory
// access instead of a register-saving call sequence each, and calls and returns stay paired.
struct Thunks {
    uint64_t exit = 0;        // ExitStubData: cpu->pc = pc, leave with rax = tb, rdx = packed
    uint64_t probe_exit = 0;  // ExitStubData: as exit, after probing the lookup table for pc
    uint64_t slow_load = 0;   // SlowStubData: softmmu slow path of a load, back to the block
    uint64_t slow_store = 0;  // SlowStubData: the same for a store
};

class X64Backend final : public ExecBackend {
public:
    X64Backend(size_t code_buffer_bytes, bool count_insns);
    ~X64Backend() override;
    // Generated code holds the addresses of members (the slow-path function slots).
    X64Backend(const X64Backend&) = delete;
    X64Backend& operator=(const X64Backend&) = delete;

    const char* name() const override { return "x64"; }
    Status compile(const ir::Block& block, TranslatedBlock& tb) override;
    ExitInfo execute(CpuCommon* cpu, TranslatedBlock* tb) override;
    void link(TranslatedBlock* from, unsigned slot, TranslatedBlock* to) override;
    void unlink(TranslatedBlock* from, unsigned slot) override;
    void flush() override;
    void release(TranslatedBlock& tb) override;
    void invalidated(TranslatedBlock& tb) override;
    void unlinkable(TranslatedBlock* from, unsigned slot) override;
    std::string disassemble(const TranslatedBlock& tb) const override;

    // Applies to blocks compiled afterwards.
    void set_count_insns(bool on) { count_insns_ = on; }
    // For tests and benchmarks that run blocks without an Engine.
    void set_slow_paths(SlowLoadFn load, SlowStoreFn store);
    // Tests: generate code as for a host without POPCNT (detected at construction otherwise).
    void set_use_popcnt(bool on) { has_popcnt_ = on; }
    // Return-stack hints (off by default: slower than the lookup table alone on the measured
    // workloads, see EXITS.md) for blocks compiled afterwards; off, calls push nothing and
    // returns go straight to the lookup table.
    void set_return_hints(bool on) { return_hints_ = on; }

    size_t code_used() const;
    size_t code_capacity() const;
    // The code buffer is W^X (executable view never writable) rather than one RWX mapping.
    bool code_wx() const;

    // Code-quality introspection of the most recent successful compile (golden tests):
    // host-code offsets of each IR instruction's hot path, and the size of the entry check.
    struct LastCompile {
        const uint8_t* code = nullptr;
        std::vector<uint32_t> inst_offsets;  // size = IR instructions + 1
        uint32_t entry_end = 0;
    };
    const LastCompile& last_compile() const { return last_; }
    // Number of x86-64 instructions in [code, code + bytes) (Capstone).
    static unsigned count_host_insns(const uint8_t* code, size_t bytes);

private:
    struct BlockMeta {
        unsigned num_sites = 0;
        uint32_t site_off[2] = {0, 0};
        uint32_t stub_off[2] = {0, 0};
        bool has_ret_site = false;  // see CompileOutput::ret_site_off
        bool ret_linkable = false;
        uint32_t ret_site_off = 0;
        uint32_t ret_stub_off = 0;
        uint32_t ret_probe_off = 0;
    };
    void build_trampoline();
    // Bytes of data after a `call` to `call_target` when it is a cold-stub thunk, else 0.
    size_t stub_data_size(uint64_t call_target) const;
    void clear_jump_table();
    void remember_jump_target(CpuCommon* cpu, TranslatedBlock* tb);
    // Patch the code at executable address `site` (written through the buffer's RW view).
    void patch_rel32(uint8_t* site, const void* target) const;
    void patch_abs64(uint8_t* site, const void* target) const;

    std::unique_ptr<CodeBuffer> buf_;
    std::unique_ptr<CompileScratch> scratch_;
    std::unique_ptr<JumpEntry[]> jump_table_;
    std::deque<BlockMeta> metas_;
    void* trampoline_ = nullptr;
    uint64_t exit_addr_ = 0;
    size_t code_start_ = 0;  // first byte after the trampoline
    bool count_insns_ = false;
    bool has_popcnt_ = true;
    bool return_hints_ = false;
    bool jump_table_live_ = true;  // false while tracing: the table is empty
    // Read by the slow-path thunks at every call (their addresses are baked into the thunks).
    SlowLoadFn slow_load_;
    SlowStoreFn slow_store_;
    Thunks thunks_;
    LastCompile last_;
};

}  // namespace x64
}  // namespace corvid
