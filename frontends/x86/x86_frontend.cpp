// X86Frontend: the block translation loop (decode, handler dispatch, #UD for the rest),
// reset and PVH entry state, the INTR input, Capstone disassembly and the register dump.
// Exceptions are in x86_exceptions.cpp, paging in x86_mmu.cpp.
#include "frontends/x86/x86_frontend.h"

#include <algorithm>
#include <cstring>

#include <capstone/capstone.h>
#include <fmt/format.h>

#include "base/log.h"
#include "frontends/x86/x86_segments.h"
#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid {

uint32_t x86_fetch_fault_error(X86State& s, uint64_t va, bool* non_canonical);  // x86_mmu.cpp

namespace x86 {
namespace {

// An instruction that crosses into a page that cannot be fetched: raise the fetch fault at run
// time if the page is still unmapped, else (the guest mapped it since) retranslate.
uint64_t fetch_fault(CpuCommon* cpu, uint64_t va, uint64_t pc, uint64_t) {
    cpu->pc = pc;
    bool noncanon = false;
    const uint32_t err = x86_fetch_fault_error(x86_state(cpu), va, &noncanon);
    if (err || noncanon) cpu->engine->raise(cpu, kVecPf | kCauseFetch, va);
    cpu->engine->flush_all();
    cpu->engine->exit_to_loop(cpu);
}

// LOCK is only valid on the read-modify-write forms with a memory destination (else #UD).
bool lock_allowed(const X86Insn& in) {
    if (!in.is_mem) return false;
    const unsigned op = in.op, reg = in.reg & 7;
    if (in.map == kMapPrimary) {
        if (op < 0x40 && (op & 7) < 2 && (op >> 3) != 7) return true;  // add/or/adc/sbb/and/sub/xor r/m, r
        if (op >= 0x80 && op <= 0x83) return reg != 7;                  // group 1 except cmp
        if (op == 0x86 || op == 0x87) return true;                       // xchg
        if (op == 0xf6 || op == 0xf7) return reg == 2 || reg == 3;       // not / neg
        if (op == 0xfe || op == 0xff) return reg < 2;                    // inc / dec
        return false;
    }
    if (in.map == kMap0F) {
        if (op == 0xab || op == 0xb3 || op == 0xbb || op == 0xb0 || op == 0xb1 || op == 0xc0 || op == 0xc1) return true;
        if (op == 0xba) return reg >= 5;
        if (op == 0xc7) return reg == 1;
    }
    return false;
}

const ir::HelperInfo kHelperFetchFault = {"x86_fetch_fault", &fetch_fault, 2,
                                          ir::kHelperReadsState | ir::kHelperWritesState | ir::kHelperMayRaise};

}  // namespace
}  // namespace x86

using namespace x86;

X86Frontend::X86Frontend(X86Platform* platform) : platform_(platform) {}

X86Frontend::~X86Frontend() {
    for (size_t& h : capstone_) {
        if (h) {
            csh c = csh(h);
            cs_close(&c);
        }
    }
}

void X86Frontend::translate(TranslateContext& ctx) {
    ir::Builder& b = ctx.builder();
    ir::Block& block = b.block();
    const uint64_t start = block.guest_pc;
    const uint32_t mode = block.mode;
    const unsigned code_size = (mode & kX86ModeCode64) ? 8 : (mode & kX86ModeCode32) ? 4 : 2;
    Translator t(b, *this, mode);
    uint64_t pc = start;
    uint32_t count = 0;
    uint32_t max_insns = ctx.max_insns ? ctx.max_insns : 1;
    b.set_pc(pc);
    if (mode & kX86ModeShadow) {
        // The instruction after sti runs alone; interrupts are looked at right after it.
        b.call_void(kHelperEndShadow);
        max_insns = 1;
    }

    // Each instruction's bytes: what the rest of its page holds is fetched in one go (up to 16
    // bytes), a byte beyond the page only when the decoder asks for it, so a fetch fault
    // happens exactly where the instruction needs the missing byte.
    uint8_t bytes[16];
    unsigned fetched = 0, window = 0;
    const ByteSource next = [&](uint8_t* out) {
        if (fetched >= sizeof(bytes)) return false;
        if (fetched >= window && !ctx.fetch(pc + fetched, &bytes[fetched], 1)) return false;
        *out = bytes[fetched++];
        return true;
    };
    for (;;) {
        b.set_pc(pc);
        fetched = 0;
        window = unsigned(std::min<uint64_t>(sizeof(bytes), kPageSize - (pc & ~kPageMask)));
        if (!ctx.fetch(pc, bytes, window)) window = 0;
        X86Insn in;
        unsigned fault_off = 0;
        const DecodeStatus st = decode(in, pc, code_size, next, &fault_off);
        if (st == DecodeStatus::kFetchFault) {
            if (count > 0) {
                b.exit_link(pc);
                break;
            }
            if (fault_off == 0) {
                b.exit_exception(kVecPf | kCauseFetch, pc);
            } else {
                b.call_void(kHelperFetchFault, b.c64(pc + fault_off), b.c64(pc));
                b.exit_link(pc);
            }
            ++count;
            break;
        }
        t.in = &in;
        t.ended = false;
        if (st == DecodeStatus::kTooLong) {
            b.exit_exception(kCauseTooLong, 0);
            ++count;
            pc += fetched;
            break;
        }
        const size_t mark = block.insts.size();
        const uint32_t labels = block.num_labels;
        const uint32_t cc_before = t.cc_known;
        const bool ok = st == DecodeStatus::kOk && in.entry->handler && (!in.lock || lock_allowed(in)) &&
                        in.entry->handler(t, in);
        if (!ok) {
            block.insts.resize(mark);
            block.num_labels = labels;
            t.cc_known = cc_before;
            if (log::enabled(log::kUnimp)) {
                std::string hex;
                for (unsigned k = 0; k < fetched; ++k) hex += fmt::format("{:02x} ", bytes[k]);
                log::write(fmt::format("x86: unimplemented or invalid instruction at rip 0x{:x}: {}({})", pc, hex,
                                       in.entry && in.entry->name ? in.entry->name : "no opcode"));
            }
            t.raise_ud();
        }
        ++count;
        pc += in.len ? in.len : fetched;
        if (t.ended) break;
        if (count >= max_insns || (pc & kPageMask) != (start & kPageMask)) {
            b.exit_link((mode & kX86ModeCode64) ? pc : (pc & 0xffffffff));
            break;
        }
    }
    block.guest_insns = count;
    block.guest_size = pc - start;
}

void X86Frontend::reset(X86State& s) {
    static const X86State fresh{};
    const size_t begin = offsetof(X86State, regs);
    std::memcpy(reinterpret_cast<char*>(&s) + begin, reinterpret_cast<const char*>(&fresh) + begin,
                sizeof(X86State) - begin);
    for (unsigned i = 0; i < kSegCount; ++i) {
        s.seg[i] = X86Segment{0, uint16_t(0x93), 0xffff, 0};
    }
    s.seg[kSegCs] = X86Segment{0xf000, uint16_t(0x9b), 0xffff, 0xffff0000};
    s.ldtr = X86Segment{0, 0x82, 0xffff, 0};
    s.tr = X86Segment{0, 0x8b, 0xffff, 0};
    s.idtr_limit = 0xffff;
    s.gdtr_limit = 0xffff;
    s.cr0 = 0x60000010;
    s.regs[2] = 0x00060fb1;  // EDX: the CPUID signature
    s.frontend = this;
    s.common.pc = 0xfff0;
    s.common.mode = x86_state_mode(s);
    if (s.common.engine) s.common.engine->tlb_flush(&s.common);
    cpu_ = &s;
}

void X86Frontend::reset_pvh(X86State& s, uint32_t entry, uint32_t ebx) {
    reset(s);
    s.regs[2] = 0;
    s.regs[3] = ebx;
    s.cr0 = kCr0Pe | kCr0Et;
    s.seg[kSegCs] = flat_segment(0x10, 0x9b | kSegAttrDb | kSegAttrG);
    for (unsigned i : {unsigned(kSegDs), unsigned(kSegEs), unsigned(kSegSs), unsigned(kSegFs), unsigned(kSegGs)})
        s.seg[i] = flat_segment(0x18, 0x93 | kSegAttrDb | kSegAttrG);
    s.tr = X86Segment{0, 0x8b, 0x67, 0};
    s.ldtr = X86Segment{0, 0x82, 0, 0};
    s.gdtr_base = s.idtr_base = 0;
    s.gdtr_limit = s.idtr_limit = 0;
    x86_write_eflags_raw(s, 0x2);
    s.common.pc = entry;
    s.common.mode = x86_state_mode(s);
    cpu_ = &s;
}

void X86Frontend::set_irq_line(bool level) {
    irq_line_.store(level, std::memory_order_relaxed);
    if (level && cpu_) cpu_->common.exit_request.store(1, std::memory_order_release);
}

std::string X86Frontend::disassemble(uint64_t pc, const uint8_t* bytes, size_t size, size_t* insn_len) const {
    const uint32_t mode = cpu_ ? cpu_->common.mode : kX86ModeCode64;
    const unsigned idx = (mode & kX86ModeCode64) ? 2 : (mode & kX86ModeCode32) ? 1 : 0;
    static constexpr cs_mode kModes[3] = {CS_MODE_16, CS_MODE_32, CS_MODE_64};
    if (!capstone_[idx]) {
        csh h;
        if (cs_open(CS_ARCH_X86, kModes[idx], &h) == CS_ERR_OK) capstone_[idx] = size_t(h);
    }
    *insn_len = size ? 1 : 0;
    if (capstone_[idx] && size) {
        cs_insn* insn = nullptr;
        const size_t n = cs_disasm(csh(capstone_[idx]), bytes, std::min<size_t>(size, 15), pc, 1, &insn);
        if (n == 1) {
            *insn_len = insn[0].size;
            std::string out = insn[0].op_str[0] ? fmt::format("{} {}", insn[0].mnemonic, insn[0].op_str)
                                                 : std::string(insn[0].mnemonic);
            cs_free(insn, n);
            return out;
        }
    }
    return size ? fmt::format(".byte 0x{:02x}", bytes[0]) : std::string("(no bytes)");
}

std::string X86Frontend::dump_state(const CpuCommon* cpu) const {
    const X86State& s = x86_state(cpu);
    static const char* kNames[16] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                     "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
    static const unsigned kOrder[16] = {0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
    std::string out;
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned r = kOrder[i];
        out += fmt::format("{}={:016x}{}", kNames[r], s.regs[r], (i % 4) == 3 ? "\n" : " ");
    }
    const uint64_t fl = x86_read_eflags(s);
    out += fmt::format("RIP={:016x} RFL={:08x} [{}{}{}{}{}{}{}] CPL={} II={}\n", cpu->pc, fl, fl & kFlagDf ? 'D' : '-',
                       fl & kFlagOf ? 'O' : '-', fl & kFlagSf ? 'S' : '-', fl & kFlagZf ? 'Z' : '-',
                       fl & kFlagAf ? 'A' : '-', fl & kFlagPf ? 'P' : '-', fl & kFlagCf ? 'C' : '-', x86_cpl(s),
                       (cpu->mode & kX86ModeShadow) ? 1 : 0);
    static const char* kSegNames[6] = {"ES =", "CS =", "SS =", "DS =", "FS =", "GS ="};
    auto seg_line = [](const char* name, const X86Segment& g) {
        return fmt::format("{}{:04x} {:016x} {:08x} {:08x}\n", name, g.selector, g.base, g.limit, uint32_t(g.attr) << 8);
    };
    for (unsigned i = 0; i < kSegCount; ++i) out += seg_line(kSegNames[i], s.seg[i]);
    out += seg_line("LDT=", s.ldtr);
    out += seg_line("TR =", s.tr);
    out += fmt::format("GDT=     {:016x} {:08x}\nIDT=     {:016x} {:08x}\n", s.gdtr_base, s.gdtr_limit, s.idtr_base,
                       s.idtr_limit);
    out += fmt::format("CR0={:08x} CR2={:016x} CR3={:016x} CR4={:08x}\nEFER={:016x}\n", s.cr0, s.cr2, s.cr3, s.cr4,
                       s.efer);
    return out;
}

}  // namespace corvid
