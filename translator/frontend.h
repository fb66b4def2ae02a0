// What a guest ISA frontend (frontends/a64, frontends/x86) provides to the translator core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "translator/cpu.h"
#include "translator/ir/ir.h"

namespace corvid {

enum class Access : uint8_t { kRead, kWrite, kExecute };

// Result of translating a guest virtual address for the softmmu.
struct PageTranslation {
    uint64_t paddr_page = 0;  // guest-physical page address
    bool readable = true;
    bool writable = true;
    bool executable = true;
};

// Given to Frontend::translate: where to put IR and how to fetch guest code.
class TranslateContext {
public:
    virtual ~TranslateContext() = default;
    ir::Builder& builder() { return *builder_; }
    // Fetches guest code bytes at a virtual address. Returns false (no value) when the address
    // cannot be executed; the frontend then ends the block with its instruction-abort
    // exception at that pc (if it is the first instruction) or with a link to it (otherwise).
    virtual bool fetch(uint64_t va, void* out, unsigned size) = 0;
    uint32_t max_insns = 64;

protected:
    ir::Builder* builder_ = nullptr;
};

class Frontend {
public:
    virtual ~Frontend() = default;

    virtual const char* name() const = 0;

    // Appends the IR of one block starting at builder.block().guest_pc (mode bits in
    // block().mode) and ending in a terminal. Must set block().guest_insns/guest_size.
    // Undefined or unimplemented encodings become the guest's undefined-instruction exception.
    virtual void translate(TranslateContext& ctx) = 0;

    // Delivers a guest exception raised by an ExitException terminal or by a helper through
    // Engine::raise: cpu->pc is the faulting instruction's pc. Sets the architectural state
    // (vector, syndrome, saved pc...) so that execution continues at the handler.
    virtual void deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) = 0;

    // Virtual-to-physical translation for the softmmu. On a fault, returns nullopt after
    // recording the fault (the engine then raises *cause / *detail through deliver_exception).
    virtual std::optional<PageTranslation> translate_address(CpuCommon* cpu, uint64_t va, Access access,
                                                             uint32_t* cause, uint64_t* detail) = 0;

    // Cause/detail to raise for an access to an address with nothing behind it
    // (bus error / external abort) and for a misaligned access when kMemAlignCheck is set.
    virtual void bus_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) = 0;
    virtual void alignment_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause,
                                 uint64_t* detail) = 0;

    // Instructions are fixed-width little-endian words (A64): `-d in_asm` shows each as one
    // word, as QEMU does; variable-length encodings (x86) are shown byte by byte.
    virtual bool fixed_width_insns() const { return false; }

    // One line of guest disassembly for `-d in_asm` (Capstone).
    virtual std::string disassemble(uint64_t pc, const uint8_t* bytes, size_t size, size_t* insn_len) const = 0;

    // Registers for `-d cpu` and monitor dumps.
    virtual std::string dump_state(const CpuCommon* cpu) const = 0;
};

}  // namespace corvid
