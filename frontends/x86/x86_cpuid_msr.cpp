// CPUID (the qemu64 model as qemu-system-x86_64 presents it under TCG, so guests print the
// same thing on QEMU and Corvid), the time stamp counter and the MSRs.
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_segments.h"
#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid::x86 {

namespace {

// qemu64: AuthenticAMD, family 15 model 107 stepping 1, level 0xd, xlevel 0x8000000a.
constexpr uint32_t kLevel = 0xd;
constexpr uint32_t kXlevel = 0x8000000a;
constexpr uint32_t kSignature = 0x00060fb1;
// FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFLUSH MMX FXSR SSE SSE2.
constexpr uint32_t kLeaf1Edx = 0x078bfbfd;
// SSE3 CX16 HYPERVISOR.
constexpr uint32_t kLeaf1Ecx = 0x80002001;
// The AMD aliases of leaf 1 EDX plus SYSCALL, NX, LM.
constexpr uint32_t kExtEdx = (kLeaf1Edx & 0x0183f3ff) | (1u << 11) | (1u << 20) | (1u << 29);
// LAHF_LM SVM.
constexpr uint32_t kExtEcx = 0x00000005;
constexpr char kVendor[] = "AuthenticAMD";
constexpr char kBrand[48] = "QEMU Virtual CPU version 2.5+";

uint32_t vendor_word(unsigned i) {
    uint32_t w;
    std::memcpy(&w, kVendor + 4 * i, 4);
    return w;
}

uint64_t cpuid(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    uint32_t leaf = uint32_t(s.regs[0]);
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (leaf < 0x80000000 && leaf > kLevel) leaf = kLevel;
    if (leaf >= 0x80000000 && leaf > kXlevel) leaf = kLevel;
    switch (leaf) {
        case 0:
            a = kLevel;
            b = vendor_word(0);
            d = vendor_word(1);
            c = vendor_word(2);
            break;
        case 1:
            a = kSignature;
            b = 0x00000800;  // CLFLUSH line 8 qwords, APIC ID 0 (no HTT: count field 0, as QEMU)
            c = kLeaf1Ecx;
            d = kLeaf1Edx;
            break;
        case 5: c = 3; break;  // MONITOR/MWAIT leaf: EMX | IBE (QEMU reports it for qemu64 too)
        case 0x80000000:
            a = kXlevel;
            b = vendor_word(0);
            d = vendor_word(1);
            c = vendor_word(2);
            break;
        case 0x80000001:
            a = kSignature;
            c = kExtEcx;
            d = kExtEdx;
            break;
        case 0x80000002:
        case 0x80000003:
        case 0x80000004: {
            uint32_t w[4];
            std::memcpy(w, kBrand + 16 * (leaf - 0x80000002), 16);
            a = w[0], b = w[1], c = w[2], d = w[3];
            break;
        }
        case 0x80000005:  // L1 caches and TLBs (QEMU's AMD defaults)
            a = 0x01ff01ff, b = 0x01ff01ff, c = 0x40020140, d = 0x40020140;
            break;
        case 0x80000006:
            b = 0x42004200, c = 0x02008140, d = 0x00808140;
            break;
        case 0x80000008: a = 0x00003028; break;  // 40 physical, 48 virtual address bits
        case 0x8000000a: a = 1, b = 0x10; break;  // SVM revision 1, 16 ASIDs
        default: break;
    }
    s.regs[0] = a;
    s.regs[3] = b;
    s.regs[1] = c;
    s.regs[2] = d;
    return 0;
}

uint64_t host_ticks() {
    using namespace std::chrono;
    return uint64_t(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

uint64_t rdtsc(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) { return host_ticks() + x86_state(cpu).tsc_offset; }

// MSR numbers.
enum : uint32_t {
    kMsrTsc = 0x10,
    kMsrApicBase = 0x1b,
    kMsrMtrrCap = 0xfe,
    kMsrSysenterCs = 0x174,
    kMsrSysenterEsp = 0x175,
    kMsrSysenterEip = 0x176,
    kMsrMcgCap = 0x179,
    kMsrMcgStatus = 0x17a,
    kMsrMiscEnable = 0x1a0,
    kMsrPat = 0x277,
    kMsrMtrrDefType = 0x2ff,
    kMsrEfer = 0xc0000080,
    kMsrStar = 0xc0000081,
    kMsrLstar = 0xc0000082,
    kMsrCstar = 0xc0000083,
    kMsrSfmask = 0xc0000084,
    kMsrFsBase = 0xc0000100,
    kMsrGsBase = 0xc0000101,
    kMsrKernelGsBase = 0xc0000102,
    kMsrTscAux = 0xc0000103,
};

bool mtrr(uint32_t msr) { return (msr >= 0x200 && msr < 0x210) || msr == 0x250 || msr == 0x258 || msr == 0x259 ||
                                 (msr >= 0x268 && msr < 0x270); }

uint64_t rdmsr(CpuCommon* cpu, uint64_t pc, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    const uint32_t msr = uint32_t(s.regs[1]);
    uint64_t v = 0;
    switch (msr) {
        case kMsrTsc: v = rdtsc(cpu, 0, 0, 0); break;
        case kMsrApicBase: v = s.apic_base; break;
        case kMsrMtrrCap: v = 0x508; break;
        case kMsrSysenterCs: v = s.sysenter_cs; break;
        case kMsrSysenterEsp: v = s.sysenter_esp; break;
        case kMsrSysenterEip: v = s.sysenter_eip; break;
        case kMsrMcgCap: v = 0x10a; break;
        case kMsrMcgStatus: v = 0; break;
        case kMsrMiscEnable: v = s.misc_enable; break;
        case kMsrPat: v = s.pat; break;
        case kMsrMtrrDefType: v = 0; break;
        case kMsrEfer: v = s.efer; break;
        case kMsrStar: v = s.star; break;
        case kMsrLstar: v = s.lstar; break;
        case kMsrCstar: v = s.cstar; break;
        case kMsrSfmask: v = s.sfmask; break;
        case kMsrFsBase: v = s.seg[kSegFs].base; break;
        case kMsrGsBase: v = s.seg[kSegGs].base; break;
        case kMsrKernelGsBase: v = s.kernel_gs_base; break;
        case kMsrTscAux: v = s.tsc_aux; break;
        default:
            if (mtrr(msr)) break;
            log::logf(log::kUnimp, "x86: rdmsr 0x{:x} not implemented: #GP at rip 0x{:x}", msr, pc);
            cpu->pc = pc;
            cpu->engine->raise(cpu, kVecGp | kCauseHasError, 0);
    }
    s.regs[0] = v & 0xffffffff;
    s.regs[2] = v >> 32;
    return 0;
}

uint64_t wrmsr(CpuCommon* cpu, uint64_t pc, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    const uint32_t msr = uint32_t(s.regs[1]);
    const uint64_t v = (s.regs[2] << 32) | (s.regs[0] & 0xffffffff);
    auto gp = [&]() {
        cpu->pc = pc;
        cpu->engine->raise(cpu, kVecGp | kCauseHasError, 0);
    };
    auto canonical = [](uint64_t a) { return uint64_t(int64_t(a << 16) >> 16) == a; };
    switch (msr) {
        case kMsrTsc: s.tsc_offset = v - host_ticks(); break;
        case kMsrApicBase: s.apic_base = v; break;
        case kMsrSysenterCs: s.sysenter_cs = v; break;
        case kMsrSysenterEsp: s.sysenter_esp = v; break;
        case kMsrSysenterEip: s.sysenter_eip = v; break;
        case kMsrMcgStatus: break;
        case kMsrMiscEnable: s.misc_enable = v; break;
        case kMsrPat: s.pat = v; break;
        case kMsrMtrrDefType: break;
        case kMsrEfer: {
            constexpr uint64_t kWritable = kEferSce | kEferLme | kEferNxe | (1u << 12) /* SVME */;
            if (v & ~(kWritable | kEferLma)) gp();
            if ((s.cr0 & kCr0Pg) && ((v ^ s.efer) & kEferLme)) gp();
            const uint64_t old = s.efer;
            s.efer = (v & kWritable) | (s.efer & kEferLma);
            if ((old ^ s.efer) & kEferNxe) cpu->engine->tlb_flush(cpu);
            break;
        }
        case kMsrStar: s.star = v; break;
        case kMsrLstar:
            if (!canonical(v)) gp();
            s.lstar = v;
            break;
        case kMsrCstar: s.cstar = v; break;
        case kMsrSfmask: s.sfmask = v & 0xffffffff; break;
        case kMsrFsBase:
            if (!canonical(v)) gp();
            s.seg[kSegFs].base = v;
            break;
        case kMsrGsBase:
            if (!canonical(v)) gp();
            s.seg[kSegGs].base = v;
            break;
        case kMsrKernelGsBase:
            if (!canonical(v)) gp();
            s.kernel_gs_base = v;
            break;
        case kMsrTscAux: s.tsc_aux = v & 0xffffffff; break;
        default:
            if (mtrr(msr)) break;
            log::logf(log::kUnimp, "x86: wrmsr 0x{:x} <- 0x{:x} not implemented: #GP at rip 0x{:x}", msr, v, pc);
            gp();
    }
    update_mode(s);
    return 0;
}

uint64_t rdtscp(CpuCommon* cpu, uint64_t a, uint64_t b, uint64_t c) { return rdtsc(cpu, a, b, c); }

}  // namespace

constexpr uint32_t kRw = ir::kHelperReadsState | ir::kHelperWritesState;
const ir::HelperInfo kHelperCpuid = {"x86_cpuid", &cpuid, 0, kRw};
const ir::HelperInfo kHelperRdtsc = {"x86_rdtsc", &rdtsc, 0, ir::kHelperReadsState};
const ir::HelperInfo kHelperRdtscp = {"x86_rdtscp", &rdtscp, 0, ir::kHelperReadsState};
const ir::HelperInfo kHelperRdmsr = {"x86_rdmsr", &rdmsr, 1, kRw | ir::kHelperMayRaise};
const ir::HelperInfo kHelperWrmsr = {"x86_wrmsr", &wrmsr, 1, kRw | ir::kHelperMayRaise};

}  // namespace corvid::x86
