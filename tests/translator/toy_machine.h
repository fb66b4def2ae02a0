// A toy guest for engine tests: a few fixed 32-bit encodings (ToyFrontend), a RAM + MMIO bus
// (ToyBus) and a CPU state with 16 registers (ToyCpu).
#pragma once

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "translator/engine.h"
#include "translator/frontend.h"

namespace corvid::toy {

struct ToyCpu {
    CpuCommon common;
    uint64_t x[16] = {};
};
constexpr uint32_t reg_off(unsigned r) {
    return uint32_t(offsetof(ToyCpu, x) + 8 * r);
}
inline ToyCpu* as_toy(CpuCommon* c) {
    return reinterpret_cast<ToyCpu*>(c);
}

// Encodings: op(8) rd(4) rs(4) imm(16, signed).
enum ToyOp : uint8_t {
    kAddi = 0x01,   // rd = rs + imm
    kLd = 0x02,     // rd = mem64[rs + imm]
    kSt = 0x03,     // mem64[rs + imm] = rd
    kBnz = 0x04,    // if rs != 0: pc += imm * 4 (ends the block)
    kB = 0x05,      // pc += imm * 4 (ends the block)
    kStw = 0x06,    // mem32[rs + imm] = rd
    kLda = 0x07,    // rd = mem64[rs + imm], alignment checked
    kJr = 0x08,     // pc = rs (ends the block)
    kHalt = 0x09,   // stop the run loop, pc = next
    kRaise = 0x0a,  // helper raising exception kCauseHelper, detail = imm
    kFlush = 0x0b,  // helper calling Engine::flush_all (like an instruction-cache invalidate)
    kBadIr = 0x0c,  // a frontend bug: emits IR the verifier rejects
    kCall = 0x0d,   // x15 = pc + 4 (the link register), pc += imm * 4 (ends the block)
    kRet = 0x0e,    // pc = rs, a return (ends the block)
    kCallr = 0x0f,  // x15 = pc + 4, pc = rs (ends the block)
    kRemap = 0x10,  // helper: virtual page rd now maps to physical page rs; flushes the TLB
};
constexpr unsigned kLinkReg = 15;
constexpr uint32_t enc(ToyOp op, unsigned rd, unsigned rs, int imm) {
    return (uint32_t(op) << 24) | (rd << 20) | (rs << 16) | (uint32_t(imm) & 0xffff);
}

enum Cause : uint32_t {
    kCauseUndef = 1,
    kCausePageFault = 3,
    kCauseBus = 4,
    kCauseAlign = 5,
    kCauseFetch = 6,
    kCauseHelper = 7,
};

constexpr uint64_t kRamBase = 0;
constexpr uint64_t kRamSize = 64 * 1024;
constexpr uint64_t kMmioBase = 0x10000;
constexpr uint64_t kVector = 0xf000;  // exception handler: the test puts code there

class ToyBus final : public MemoryBus {
public:
    ToyBus() : ram(kRamSize, 0) {}
    uint8_t* ram_page(uint64_t paddr, bool* writable) override {
        *writable = true;
        if (paddr >= kRamBase && paddr < kRamBase + kRamSize) return ram.data() + ((paddr - kRamBase) & kPageMask);
        return nullptr;
    }
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override {
        if (paddr >= kMmioBase && paddr < kMmioBase + kPageSize) {
            ++mmio_reads;
            *value = (0x1100 + (paddr - kMmioBase)) & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
            return MemResult::kOk;
        }
        return MemResult::kUnmapped;
    }
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override {
        if (paddr >= kMmioBase && paddr < kMmioBase + kPageSize) {
            mmio_writes.push_back({paddr - kMmioBase, size, value});
            return MemResult::kOk;
        }
        return MemResult::kUnmapped;
    }
    void put(uint64_t addr, uint32_t word) { std::memcpy(&ram[addr - kRamBase], &word, 4); }
    void put(uint64_t addr, std::initializer_list<uint32_t> words) {
        for (uint32_t w : words) put(addr, w), addr += 4;
    }
    uint64_t get64(uint64_t addr) const {
        uint64_t v;
        std::memcpy(&v, &ram[addr - kRamBase], 8);
        return v;
    }

    struct Write {
        uint64_t offset;
        unsigned size;
        uint64_t value;
    };
    std::vector<uint8_t> ram;
    std::vector<Write> mmio_writes;
    unsigned mmio_reads = 0;
};

inline uint64_t raise_helper(CpuCommon* cpu, uint64_t detail, uint64_t, uint64_t) {
    cpu->engine->raise(cpu, kCauseHelper, detail);
}
inline uint64_t flush_helper(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) {
    cpu->engine->flush_all();
    return 0;
}
uint64_t remap_helper(CpuCommon* cpu, uint64_t va_page, uint64_t pa_page, uint64_t);
inline const ir::HelperInfo kRaiseHelper{"toy_raise", raise_helper, 1, ir::kHelperMayRaise};
inline const ir::HelperInfo kFlushHelper{"toy_flush", flush_helper, 0, 0};
inline const ir::HelperInfo kRemapHelper{"toy_remap", remap_helper, 2, 0};

class ToyFrontend final : public Frontend {
public:
    const char* name() const override { return "toy"; }
    bool fixed_width_insns() const override { return true; }

    void translate(TranslateContext& ctx) override {
        ir::Builder& b = ctx.builder();
        ir::Block& blk = b.block();
        uint64_t pc = blk.guest_pc;
        for (uint32_t n = 0;; ++n) {
            b.set_pc(pc);
            uint32_t w = 0;
            if (n == ctx.max_insns || !ctx.fetch(pc, &w, 4)) {
                if (n == 0) {
                    b.exit_exception(kCauseFetch, pc);
                    blk.guest_insns = 0;
                } else {
                    b.exit_link(pc);
                }
                break;
            }
            blk.guest_insns = n + 1;
            blk.guest_size = (pc + 4) - blk.guest_pc;
            ++translated_insns;
            if (!insn(b, pc, w)) break;
            pc += 4;
        }
    }

    // Returns false when the instruction ended the block.
    bool insn(ir::Builder& b, uint64_t pc, uint32_t w) {
        const unsigned rd = (w >> 20) & 15, rs = (w >> 16) & 15;
        const int64_t imm = int16_t(w & 0xffff);
        auto reg = [&](unsigned r) { return b.get_state(ir::Type::I64, reg_off(r)); };
        auto addr = [&] { return b.add(reg(rs), b.c64(uint64_t(imm))); };
        switch (w >> 24) {
            case kAddi: b.set_state(reg_off(rd), b.add(reg(rs), b.c64(uint64_t(imm)))); return true;
            case kLd: b.set_state(reg_off(rd), b.load(ir::Type::I64, addr(), 3)); return true;
            case kLda: b.set_state(reg_off(rd), b.load(ir::Type::I64, addr(), 3 | ir::kMemAlignCheck)); return true;
            case kSt: b.store(addr(), reg(rd), 3); return true;
            case kStw: b.store(addr(), b.trunc(ir::Type::I32, reg(rd)), 2); return true;
            case kBnz: b.exit_cond(b.cmp(ir::Opcode::CmpNe, reg(rs), b.c64(0)), pc + imm * 4, pc + 4); return false;
            case kB: b.exit_link(pc + imm * 4); return false;
            case kJr: b.exit_jump(reg(rs)); return false;
            case kHalt:
                b.set_state(0, b.c64(pc + 4));  // CpuCommon::pc
                b.exit_halt(ir::HaltReason::kStop);
                return false;
            case kRaise: b.call_void(kRaiseHelper, b.c64(uint64_t(imm))); return true;
            case kFlush: b.call_void(kFlushHelper); return true;
            case kBadIr: b.exit_cond(b.c64(1), pc + 4, pc + 4); return false;  // i64 condition
            case kCall:
            case kCallr: {
                ir::ValueId target = reg(rs);  // read before the link register is written
                b.set_state(reg_off(kLinkReg), b.c64(pc + 4));
                b.push_return_hint(pc + 4);
                if ((w >> 24) == kCall) {
                    b.exit_link(pc + imm * 4);
                } else {
                    b.exit_jump(target);
                }
                return false;
            }
            case kRet: b.exit_return(reg(rs)); return false;
            case kRemap: b.call_void(kRemapHelper, reg(rd), reg(rs)); return true;
            default: b.exit_exception(kCauseUndef, w); return false;
        }
    }

    void deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) override {
        exceptions.push_back({cause, detail, cpu->pc});
        cpu->pc = kVector;
    }

    std::optional<PageTranslation> translate_address(CpuCommon*, uint64_t va, Access, uint32_t* cause,
                                                     uint64_t* detail) override {
        uint64_t page = va & kPageMask;
        if (faulting.count(page)) {
            *cause = kCausePageFault;
            *detail = va;
            return std::nullopt;
        }
        auto it = remap.find(page);
        PageTranslation t;
        t.paddr_page = it == remap.end() ? page : it->second;
        return t;
    }
    void bus_fault(CpuCommon*, uint64_t va, Access, uint32_t* cause, uint64_t* detail) override {
        *cause = kCauseBus;
        *detail = va;
    }
    void alignment_fault(CpuCommon*, uint64_t va, Access, uint32_t* cause, uint64_t* detail) override {
        *cause = kCauseAlign;
        *detail = va;
    }
    std::string disassemble(uint64_t, const uint8_t* bytes, size_t size, size_t* len) const override {
        *len = 4;
        if (size < 4) return "?";
        uint32_t w;
        std::memcpy(&w, bytes, 4);
        return fmt::format("op{:02x} x{}, x{}, #{}", w >> 24, (w >> 20) & 15, (w >> 16) & 15, int16_t(w & 0xffff));
    }
    std::string dump_state(const CpuCommon* cpu) const override { return fmt::format("pc={:#x}", cpu->pc); }

    struct Exc {
        uint32_t cause;
        uint64_t detail;
        uint64_t pc;
    };
    std::vector<Exc> exceptions;
    std::map<uint64_t, uint64_t> remap;  // virtual page -> physical page
    std::map<uint64_t, bool> faulting;   // virtual pages that fault
    uint64_t translated_insns = 0;
};

inline uint64_t remap_helper(CpuCommon* cpu, uint64_t va_page, uint64_t pa_page, uint64_t) {
    static_cast<ToyFrontend&>(cpu->engine->frontend()).remap[va_page & kPageMask] = pa_page & kPageMask;
    cpu->engine->tlb_flush(cpu);
    return 0;
}

// Engine + toy guest in one bundle.
struct ToyMachine {
    explicit ToyMachine(EngineOptions opts = {}, std::unique_ptr<ExecBackend> backend = make_interp_backend())
        : engine(frontend, bus, opts, std::move(backend)) {
        cpu.common.engine = &engine;
        // Exception vector: halt at once.
        bus.put(kVector, enc(kHalt, 0, 0, 0));
    }
    RunExit run_from(uint64_t pc) {
        cpu.common.pc = pc;
        return engine.run(&cpu.common);
    }
    ToyFrontend frontend;
    ToyBus bus;
    Engine engine;
    ToyCpu cpu;
};

}  // namespace corvid::toy
