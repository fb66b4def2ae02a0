// The contract between the translator core (block cache, run loop) and an execution backend:
// the interpreter (translator/interp) or the x86-64 JIT (backend/x64).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "translator/cpu.h"
#include "translator/ir/ir.h"

namespace corvid {

class Engine;

// A translated block as the backend holds it. The engine owns the bookkeeping
// (cache key, pages, incoming links); the backend owns `code`.
struct TranslatedBlock {
    uint64_t guest_pc = 0;
    uint32_t mode = 0;
    uint64_t phys_page0 = 0;         // guest-physical page of the first byte
    uint64_t phys_page1 = ~0ull;     // second page when the block crosses a page, else ~0
    uint32_t guest_insns = 0;
    uint64_t guest_size = 0;
    void* code = nullptr;            // backend-specific (host code entry or IR copy)
    size_t code_size = 0;            // bytes of host code (0 for the interpreter)
    // Direct exits: ExitLink has slot 0; ExitCond has slot 0 (taken) and 1 (not taken).
    // Slot kReturnSlot is the return address of a call (PushReturnHint): "linked" means the
    // call's return-stack hint names that block's code directly.
    uint64_t link_pc[3] = {~0ull, ~0ull, ~0ull};
    TranslatedBlock* linked[3] = {nullptr, nullptr, nullptr};  // current chain targets
    void* backend_data = nullptr;    // e.g. patch-site addresses
    bool valid = true;
};

inline constexpr unsigned kReturnSlot = 2;
inline constexpr unsigned kLinkSlots = 3;

// How a run of generated code returned to the run loop.
enum class ExitKind : uint8_t {
    kLink,        // direct exit `slot` of `from` not chained yet: cpu->pc holds the target
                  // (slot kReturnSlot: a return predicted to `from`'s unresolved call hint)
    kJump,        // indirect jump / return: cpu->pc holds the target
    kException,   // ExitException: cpu->pc = faulting pc, cause/detail below
    kHalt,        // ExitHalt: reason below, cpu->pc = next pc
    kExitRequest, // cpu->exit_request was set at a block entry: cpu->pc = that block's pc
};

struct ExitInfo {
    ExitKind kind = ExitKind::kJump;
    TranslatedBlock* from = nullptr;  // last block executed
    uint8_t slot = 0;
    uint32_t cause = 0;               // kException: cause; kHalt: HaltReason
    uint64_t detail = 0;
};

class ExecBackend {
public:
    virtual ~ExecBackend() = default;
    virtual const char* name() const = 0;

    // Compiles an optimised, verified block. On "code buffer full" returns an error whose
    // message is kBufferFull; the engine then flushes everything and tries again.
    virtual Status compile(const ir::Block& block, TranslatedBlock& tb) = 0;

    // Runs from `tb` until generated code exits to the run loop. Helpers that raise guest
    // exceptions unwind to the engine (see Engine::raise), not through this call's return.
    virtual ExitInfo execute(CpuCommon* cpu, TranslatedBlock* tb) = 0;

    // Chain exit `slot` of `from` directly to `to` / undo it (on invalidation of either).
    virtual void link(TranslatedBlock* from, unsigned slot, TranslatedBlock* to) = 0;
    virtual void unlink(TranslatedBlock* from, unsigned slot) = 0;
    // The engine will never chain exit `slot` of `from` (e.g. a return target on another
    // page): the backend may stop sending that exit to the run loop for linking.
    virtual void unlinkable(TranslatedBlock* from, unsigned slot) { (void)from, (void)slot; }

    // Forget every block (the engine has already dropped its own references).
    virtual void flush() = 0;
    // Releases one block's code when invalidated (may be a no-op for bump allocators).
    virtual void release(TranslatedBlock& tb) = 0;
    // `tb->valid` has just become false (release() follows later, once no generated code can
    // be running): the backend must stop entering it through any lookup structure of its own.
    virtual void invalidated(TranslatedBlock& tb) { (void)tb; }

    // Host disassembly of a block for `-d out_asm` (empty if not applicable).
    virtual std::string disassemble(const TranslatedBlock& tb) const = 0;
};

inline constexpr const char* kBufferFull = "code buffer full";

}  // namespace corvid
