// A64Frontend: the block translation loop, reset, CPU models, IRQ input, disassembly and the
// register dump. Exceptions are in a64_exceptions.cpp.
#include "frontends/a64/a64_frontend.h"

#include <cstring>

#include <capstone/capstone.h>
#include <fmt/format.h>

#include "base/log.h"
#include "frontends/a64/a64_translator.h"
#include "frontends/a64/decode_table.h"

namespace corvid {

namespace {

constexpr a64::Handler kHandlers[] = {
#define INST(name, desc, pattern, handler) &a64::handler,
#include "frontends/a64/decode_table.inc"
#undef INST
};
static_assert(std::size(kHandlers) == size_t(A64Op::kCount));

// MIDR values as qemu-system-aarch64 7.2 reports them. QEMU's "max" has implementer 0
// ("software"), architecture 0xf and part number 'Q'.
constexpr A64CpuModel kModels[] = {
    {"cortex-a57", 0x411fd070, "ARM Cortex-A57 (r1p0)", 0x8444c004, 0x1124, 0x10305106, 0x0a200023, 0x701fe00a},
    {"cortex-a53", 0x410fd034, "ARM Cortex-A53 (r0p4)", 0x84448004, 0x1122, 0x10305106, 0x0a200023, 0x700fe01a},
    {"max", 0x000f0510, "all implemented features (QEMU's max MIDR)", 0x8444c004, 0x0000032310201126,
     0x10305609, 0x02000023, 0x701fe00a},
};

// QEMU's reset value of SCTLR_EL1 for the Cortex-A5x models (RES1 bits, MMU and caches off).
constexpr uint64_t kSctlrReset = 0x00c50838;

}  // namespace

std::span<const A64CpuModel> a64_cpu_models() { return {kModels, std::size(kModels)}; }

const A64CpuModel* find_a64_cpu_model(std::string_view name) {
    for (const A64CpuModel& m : kModels) {
        if (name == m.name) return &m;
    }
    return nullptr;
}

A64Frontend::A64Frontend(A64Platform* platform, A64CpuOptions options) : platform_(platform), options_(options) {
    if (!options_.model) options_.model = &kModels[0];
}

A64Frontend::~A64Frontend() {
    if (capstone_) {
        csh h = csh(capstone_);
        cs_close(&h);
    }
}

void A64Frontend::translate(TranslateContext& ctx) {
    ir::Builder& b = ctx.builder();
    ir::Block& block = b.block();
    const uint64_t start = block.guest_pc;
    a64::Translator t(b, *this, block.mode);
    uint64_t pc = start;
    uint32_t count = 0;

    auto finish = [&](uint32_t insns, uint64_t size) {
        block.guest_insns = insns;
        block.guest_size = size;
    };

    b.set_pc(pc);
    if (block.mode & kA64ModeIllegal) {  // PSTATE.IL: every instruction is an illegal-state fault
        b.exit_exception(a64::kCauseIllegalState, 0);
        return finish(1, 4);
    }
    if (pc & 3) {
        b.exit_exception(a64::kCausePcAlign, 0);
        return finish(1, 0);
    }

    const uint32_t max_insns = ctx.max_insns ? ctx.max_insns : 1;
    while (true) {
        uint32_t insn = 0;
        b.set_pc(pc);
        if (!ctx.fetch(pc, &insn, 4)) {
            if (count == 0) {
                b.exit_exception(a64::kCauseInsnAbort, a64::kFscExternalAbort);
                return finish(1, 0);
            }
            b.exit_link(pc);
            break;
        }
        t.pc = pc;
        t.insn = insn;
        t.ended = false;
        const size_t mark = block.insts.size();
        const uint32_t labels = block.num_labels;
        const A64Op op = a64_decode(insn);
        const bool ok = op != A64Op::kCount && kHandlers[size_t(op)](t, insn);
        if (!ok) {
            // Drop whatever a handler emitted before it found a reserved value.
            block.insts.resize(mark);
            block.num_labels = labels;
            // FP/SIMD space (bits 27:25 = 11x): trapped by CPACR_EL1.FPEN before it is UNDEFINED.
            const bool fp_space = ((insn >> 26) & 3) == 3;
            if (op == A64Op::kCount && fp_space && (block.mode & kA64ModeFpTrap)) {
                b.exit_exception(a64::kCauseFpAccess, insn);
            } else {
                if (op == A64Op::kCount) {
                    log::logf(log::kUnimp, "unimplemented A64 {}encoding 0x{:08x} at pc 0x{:x}",
                              fp_space ? "FP/SIMD " : "", insn, pc);
                } else {
                    log::logf(log::kUnimp, "unimplemented A64 encoding 0x{:08x} at pc 0x{:x} ({}: reserved value)",
                              insn, pc, a64_encodings()[size_t(op)].name);
                }
                b.exit_exception(a64::kCauseUndefined, insn);
            }
            t.ended = true;
        }
        ++count;
        pc += 4;
        if (t.ended) break;
        if (count >= max_insns || (pc & kPageMask) != (start & kPageMask)) {
            b.exit_link(pc);
            break;
        }
    }
    finish(count, pc - start);
}

void A64Frontend::reset(A64State& s, uint64_t entry) {
    // Everything after CpuCommon back to its initial value; CpuCommon keeps the engine's data.
    static const A64State fresh{};
    const size_t begin = offsetof(A64State, x);
    std::memcpy(reinterpret_cast<char*>(&s) + begin, reinterpret_cast<const char*>(&fresh) + begin,
                sizeof(A64State) - begin);
    s.el = 1;
    s.spsel = 1;
    s.z = 1;  // QEMU enters with PSTATE 0x400003c5 (Z set): guests comparing dumps see the same
    s.daif = kDaifMask;
    s.sctlr_el1 = kSctlrReset;
    s.midr_el1 = options_.model->midr;
    s.mpidr_el1 = options_.mpidr;
    s.frontend = this;
    s.common.pc = entry;
    s.common.mode = a64_state_mode(s);
    cpu_ = &s;
}

void A64Frontend::set_irq_line(bool level) {
    irq_line_.store(level, std::memory_order_relaxed);
    if (level && cpu_) cpu_->common.exit_request.store(1, std::memory_order_release);
}

bool A64Frontend::take_pending_interrupt(A64State& s) {
    if (!irq_line() || (s.daif & kDaifI)) return false;
    deliver_exception(&s.common, a64::kCauseIrq, 0);
    return true;
}

std::string A64Frontend::disassemble(uint64_t pc, const uint8_t* bytes, size_t size, size_t* insn_len) const {
    *insn_len = 4;
    uint32_t word = 0;
    if (size >= 4) std::memcpy(&word, bytes, 4);
    if (!capstone_) {
        csh h;
        if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &h) == CS_ERR_OK) capstone_ = size_t(h);
    }
    if (capstone_ && size >= 4) {
        cs_insn* insn = nullptr;
        size_t n = cs_disasm(csh(capstone_), bytes, 4, pc, 1, &insn);
        if (n == 1) {
            std::string out = insn[0].op_str[0] ? fmt::format("{} {}", insn[0].mnemonic, insn[0].op_str)
                                                 : std::string(insn[0].mnemonic);
            cs_free(insn, n);
            return out;
        }
    }
    return fmt::format(".inst 0x{:08x}", word);
}

std::string A64Frontend::dump_state(const CpuCommon* cpu) const {
    const A64State& s = a64_state(cpu);
    std::string out = fmt::format(" PC={:016x} ", cpu->pc);
    for (unsigned i = 0; i < 32; ++i) {
        if (i == 31) {
            uint64_t sp = a64_mode_uses_sp_elx(cpu->mode) ? s.sp_el1 : s.sp_el0;
            out += fmt::format(" SP={:016x}\n", sp);
        } else {
            out += fmt::format("X{:02}={:016x}{}", i, s.x[i], (i % 4) == 3 ? "\n" : " ");
        }
    }
    const uint64_t pstate = a64_pack_pstate(s);
    out += fmt::format("PSTATE={:08x} {}{}{}{} EL{}{}\n", pstate, s.n ? 'N' : '-', s.z ? 'Z' : '-', s.c ? 'C' : '-',
                       s.v ? 'V' : '-', s.el, (s.el != 0 && s.spsel) ? 'h' : 't');
    return out;
}

}  // namespace corvid
