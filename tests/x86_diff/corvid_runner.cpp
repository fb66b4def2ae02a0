// The Corvid side of the x86 differential fuzzer.
#include "tests/x86_diff/corvid_runner.h"

#include <fmt/format.h>

#include <cstring>

#include "frontends/x86/x86_segments.h"

namespace corvid::x86diff {
namespace {

constexpr unsigned kVectorUd = 6;
constexpr unsigned kIst = 1;

// GDT: 0 null, 0x08 64-bit code, 0x10 data; 0x18 the 64-bit TSS (16 bytes).
constexpr uint64_t kGdtEntries[] = {0, 0x00af9b000000ffff, 0x00cf93000000ffff};

const char* vector_name(unsigned v) {
    static const char* const kNames[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",
                                         "#TS", "#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM"};
    return v < std::size(kNames) ? kNames[v] : "vector";
}

}  // namespace

DiffBus::DiffBus(const uint8_t* code) : data_(kDataSize, 0), sys_(kSysSize, 0) {
    add_window(kCodeBase, kCodeSize, const_cast<uint8_t*>(code), false);
    add_window(kDataBase, kDataSize, data_.data(), true);
    add_window(kSysBase, kSysSize, sys_.data(), true);
}

CorvidRunner::CorvidRunner(CorvidBackend backend, const uint8_t* code)
    : backend_(backend),
      bus_(code),
      frontend_(&platform_),
      cpu_(std::make_unique<X86State>()),
      engine_(diffcommon::make_diff_engine(frontend_, bus_, backend)),
      watchdog_(cpu_->common.exit_request) {
    frontend_.reset_pvh(*cpu_, uint32_t(kSlot), 0);
    setup_system_area();
}

// Identity map of the first 1 GiB (2 MiB pages), the GDT with a TSS whose IST1 is the fault
// stack, and an IDT whose every vector is an interrupt gate to its own HLT.
void CorvidRunner::setup_system_area() {
    uint8_t* sys = bus_.sys();
    auto put64 = [&](uint64_t addr, uint64_t v) { std::memcpy(sys + (addr - kSysBase), &v, 8); };
    put64(kPml4, (kPml4 + 0x1000) | 3);
    put64(kPml4 + 0x1000, (kPml4 + 0x2000) | 3);
    for (uint64_t i = 0; i < 512; ++i) put64(kPml4 + 0x2000 + i * 8, (i << 21) | 0x83);
    for (size_t i = 0; i < std::size(kGdtEntries); ++i) put64(kGdt + i * 8, kGdtEntries[i]);
    put64(kGdt + 0x18, 0x0000890000000067ull | ((kTss & 0xffffff) << 16) | ((kTss >> 24) << 56));
    put64(kGdt + 0x20, kTss >> 32);
    put64(kTss + 0x24, kIstTop);  // IST1
    for (unsigned v = 0; v < 256; ++v) {
        const uint64_t h = kHandlers + 16 * v;
        sys[h - kSysBase] = kHltByte;
        const uint64_t lo = (h & 0xffff) | (uint64_t(0x08) << 16) | (uint64_t(kIst) << 32) | (uint64_t(0x8e) << 40) |
                            (((h >> 16) & 0xffff) << 48);
        put64(kIdt + 16 * v, lo);
        put64(kIdt + 16 * v + 8, h >> 32);
    }
}

Outcome CorvidRunner::run(const ArchState& init) {
    X86State& s = *cpu_;
    s.cr3 = kPml4;
    s.cr4 = kCr4Pae;
    s.efer = kEferLme | kEferLma | kEferSce | kEferNxe;
    s.cr0 = kCr0Pe | kCr0Et | kCr0Pg | kCr0Wp;
    s.gdtr_base = kGdt;
    s.gdtr_limit = 0x27;
    s.idtr_base = kIdt;
    s.idtr_limit = 256 * 16 - 1;
    s.seg[kSegCs] = x86::flat_segment(0x08, 0x9b | kSegAttrL | kSegAttrG);
    for (unsigned i : {unsigned(kSegDs), unsigned(kSegEs), unsigned(kSegSs), unsigned(kSegFs), unsigned(kSegGs)})
        s.seg[i] = x86::flat_segment(0x10, 0x93 | kSegAttrDb | kSegAttrG);
    s.seg[kSegFs].base = 0;
    s.seg[kSegGs].base = 0;
    s.tr = X86Segment{0x18, 0x8b, 0x67, kTss};
    std::memcpy(s.regs, init.regs, sizeof s.regs);
    x86_write_eflags_raw(s, init.rflags);
    s.common.pc = init.rip;
    s.common.mode = x86_state_mode(s);
    s.common.exit_request.store(0);
    engine_->tlb_flush(&s.common);
    platform_.triple_faulted = false;

    watchdog_.start_run();
    RunExit e;
    for (int i = 0; i < 100; ++i) {
        e = engine_->run(&s.common);
        if (watchdog_.hung() || platform_.triple_faulted || e.kind == RunExit::Kind::kError) break;
        if (e.kind == RunExit::Kind::kHalt && e.halt == ir::HaltReason::kWaitForInterrupt) break;
    }
    watchdog_.end_run();

    Outcome out;
    std::memcpy(out.state.regs, s.regs, sizeof s.regs);
    out.state.rflags = x86_read_eflags(s);
    out.state.rip = s.common.pc;
    if (watchdog_.hung()) {
        out.kind = Outcome::Kind::kFault;
        out.fault = fmt::format("corvid ERROR: no HLT reached within 1 s (rip 0x{:x})", s.common.pc);
        return out;
    }
    if (platform_.triple_faulted) {
        out.kind = Outcome::Kind::kFault;
        out.fault = "corvid ERROR: triple fault";
        return out;
    }
    if (e.kind != RunExit::Kind::kHalt || e.halt != ir::HaltReason::kWaitForInterrupt) {
        out.kind = Outcome::Kind::kFault;
        out.fault = "corvid ERROR: run ended without a HLT: " + e.error;
        return out;
    }
    const uint64_t hlt_at = s.common.pc - 1;  // HLT leaves RIP past itself
    if (hlt_at >= kHandlers && hlt_at < kHandlers + 256 * 16) {
        const unsigned v = unsigned((hlt_at - kHandlers) / 16);
        // The frame on the IST stack: SS RSP RFLAGS CS RIP [error code], from the top down.
        uint64_t frame_rip = 0;
        std::memcpy(&frame_rip, bus_.sys() + (kIstTop - 40 - kSysBase), 8);
        out.kind = Outcome::Kind::kFault;
        out.undefined_opcode = v == kVectorUd;
        out.fault = fmt::format("corvid: {} (vector {}) at rip 0x{:x}{}", vector_name(v), v, frame_rip,
                                v == 14 ? fmt::format(" cr2 0x{:x}", s.cr2) : std::string());
        out.state.rip = frame_rip;
        return out;
    }
    return out;
}

}  // namespace corvid::x86diff
