// x86 paging for the softmmu: 4-level long-mode walks (4K/2M/1G pages), PAE and 32-bit
// non-PAE walks, present/RW/US/NX checks with CR0.WP, accessed/dirty updates in the guest
// page tables, #PF error codes; plus guest virtual memory access from C++.
#include <cstring>

#include "base/log.h"
#include "base/memory_bus.h"
#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid {

using namespace x86;

namespace {

constexpr uint64_t kPteP = 1u << 0;
constexpr uint64_t kPteRw = 1u << 1;
constexpr uint64_t kPteUs = 1u << 2;
constexpr uint64_t kPteA = 1u << 5;
constexpr uint64_t kPteD = 1u << 6;
constexpr uint64_t kPtePs = 1u << 7;
constexpr uint64_t kPteNx = 1ull << 63;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;

constexpr uint32_t kPfP = 1u << 0;
constexpr uint32_t kPfW = 1u << 1;
constexpr uint32_t kPfU = 1u << 2;
constexpr uint32_t kPfRsvd = 1u << 3;
constexpr uint32_t kPfI = 1u << 4;

MemoryBus* bus_of(X86State& s) { return s.common.engine ? &s.common.engine->bus() : nullptr; }

bool phys_read(MemoryBus* bus, uint64_t pa, unsigned size, uint64_t* v) {
    if (!bus) return false;
    bool w = false;
    if (uint8_t* page = bus->ram_page(pa & kPageMask, &w); page && (pa & ~kPageMask) + size <= kPageSize) {
        *v = 0;
        std::memcpy(v, page + (pa & ~kPageMask), size);
        return true;
    }
    return bus->read(pa, size, v) == MemResult::kOk;
}

void phys_write(MemoryBus* bus, uint64_t pa, unsigned size, uint64_t v) {
    if (!bus) return;
    bool w = false;
    if (uint8_t* page = bus->ram_page(pa & kPageMask, &w); page && w && (pa & ~kPageMask) + size <= kPageSize) {
        std::memcpy(page + (pa & ~kPageMask), &v, size);
        return;
    }
    (void)bus->write(pa, size, v);
}

struct WalkOut {
    uint64_t paddr = 0;
    bool writable = true, user = true, exec = true, dirty = true;
};

// One walk for `access` at privilege `cpl`. Returns 0 on success, else the #PF error code
// with bit 31 set (so that 0 stays "no fault"); ~0u for a non-canonical address (#GP).
uint32_t walk(X86State& s, uint64_t va, Access access, unsigned cpl, WalkOut* out) {
    const bool write = access == Access::kWrite, exec = access == Access::kExecute, user = cpl == 3;
    if (!(s.cr0 & kCr0Pg)) {
        out->paddr = (s.efer & kEferLma) ? va : (va & 0xffffffff);
        return 0;
    }
    MemoryBus* bus = bus_of(s);
    const bool nxe = (s.efer & kEferNxe) != 0;
    uint32_t err = (write ? kPfW : 0) | (user ? kPfU : 0) | (exec && nxe ? kPfI : 0);
    auto fault = [&](uint32_t extra) { return (err | extra) | 0x80000000u; };
    bool rw = true, us = true, nx = false;
    uint64_t entry_addr[4];
    unsigned n = 0;
    uint64_t e = 0, paddr = 0;
    bool dirty = true;

    auto visit = [&](uint64_t addr, unsigned size) -> bool {
        uint64_t v = 0;
        if (!phys_read(bus, addr, size, &v)) return false;
        e = v;
        entry_addr[n++] = addr | (size == 4 ? 1 : 0);
        return true;
    };

    if (s.efer & kEferLma) {
        const int64_t sva = int64_t(va << 16) >> 16;
        if (uint64_t(sva) != va) return ~0u;
        uint64_t table = s.cr3 & kAddrMask;
        for (int level = 4; level >= 1; --level) {
            const unsigned shift = 12 + 9 * unsigned(level - 1);
            if (!visit(table + ((va >> shift) & 511) * 8, 8)) return fault(0);
            if (!(e & kPteP)) return fault(0);
            if ((e & kPteNx) && !nxe) return fault(kPfP | kPfRsvd);
            rw = rw && (e & kPteRw);
            us = us && (e & kPteUs);
            nx = nx || (nxe && (e & kPteNx));
            if ((level == 3 || level == 2) && (e & kPtePs)) {
                const uint64_t span = 1ull << shift;
                paddr = (e & kAddrMask & ~(span - 1)) | (va & (span - 1));
                dirty = e & kPteD;
                break;
            }
            if (level == 1) {
                paddr = (e & kAddrMask) | (va & 0xfff);
                dirty = e & kPteD;
                break;
            }
            table = e & kAddrMask;
        }
    } else if (s.cr4 & kCr4Pae) {
        va &= 0xffffffff;
        if (!visit((s.cr3 & 0xffffffe0) + ((va >> 30) & 3) * 8, 8)) return fault(0);
        if (!(e & kPteP)) return fault(0);
        uint64_t table = e & kAddrMask;
        n = 0;  // PDPTEs have no A bit to set
        for (int level = 2; level >= 1; --level) {
            const unsigned shift = 12 + 9 * unsigned(level - 1);
            if (!visit(table + ((va >> shift) & 511) * 8, 8)) return fault(0);
            if (!(e & kPteP)) return fault(0);
            rw = rw && (e & kPteRw);
            us = us && (e & kPteUs);
            nx = nx || (nxe && (e & kPteNx));
            if (level == 2 && (e & kPtePs)) {
                paddr = (e & kAddrMask & ~0x1fffffull) | (va & 0x1fffff);
                dirty = e & kPteD;
                break;
            }
            if (level == 1) {
                paddr = (e & kAddrMask) | (va & 0xfff);
                dirty = e & kPteD;
                break;
            }
            table = e & kAddrMask;
        }
    } else {
        va &= 0xffffffff;
        if (!visit((s.cr3 & 0xfffff000) + ((va >> 22) & 0x3ff) * 4, 4)) return fault(0);
        if (!(e & kPteP)) return fault(0);
        rw = e & kPteRw;
        us = e & kPteUs;
        if ((e & kPtePs) && (s.cr4 & kCr4Pse)) {
            paddr = (e & 0xffc00000) | ((e & 0x1fe000) << 19) | (va & 0x3fffff);
            dirty = e & kPteD;
        } else {
            if (!visit((e & 0xfffff000) + ((va >> 12) & 0x3ff) * 4, 4)) return fault(0);
            if (!(e & kPteP)) return fault(0);
            rw = rw && (e & kPteRw);
            us = us && (e & kPteUs);
            paddr = (e & 0xfffff000) | (va & 0xfff);
            dirty = e & kPteD;
        }
    }

    const bool wp = (s.cr0 & kCr0Wp) != 0;
    if (user && !us) return fault(kPfP);
    if (write && !rw && (user || wp)) return fault(kPfP);
    if (exec && nx) return fault(kPfP);

    // Accessed bits on every level, dirty on the leaf for writes.
    for (unsigned i = 0; i < n; ++i) {
        const bool is32 = entry_addr[i] & 1;
        const uint64_t addr = entry_addr[i] & ~1ull;
        uint64_t v = 0;
        if (!phys_read(bus, addr, is32 ? 4 : 8, &v)) continue;
        uint64_t nv = v | kPteA;
        if (i == n - 1 && write) nv |= kPteD;
        if (nv != v) phys_write(bus, addr, is32 ? 4 : 8, nv);
    }
    if (write) dirty = true;
    out->paddr = paddr;
    out->writable = (rw || (!user && !wp)) && dirty;
    out->user = us;
    out->exec = !nx;
    out->dirty = dirty;
    return 0;
}

bool virt_access(X86State& s, uint64_t va, uint8_t* data, unsigned size, unsigned cpl, bool write, X86Fault* f) {
    MemoryBus* bus = bus_of(s);
    if (!bus) {
        f->vector = kVecGp;
        f->error = 0;
        return false;
    }
    // Translate every page first so that a fault leaves memory untouched.
    uint64_t pa[2] = {0, 0};
    const uint64_t last = va + size - 1;
    const unsigned pages = ((last & kPageMask) != (va & kPageMask)) ? 2 : 1;
    for (unsigned p = 0; p < pages; ++p) {
        const uint64_t a = p == 0 ? va : (last & kPageMask);
        WalkOut w;
        const uint32_t r = walk(s, a, write ? Access::kWrite : Access::kRead, cpl, &w);
        if (r == ~0u) {
            f->vector = kVecGp;
            f->error = 0;
            return false;
        }
        if (r) {
            f->vector = kVecPf;
            f->error = r & 0x7fffffff;
            s.fault_va = a;
            return false;
        }
        pa[p] = w.paddr & kPageMask;
    }
    for (unsigned k = 0; k < size; ++k) {
        const uint64_t a = va + k;
        const uint64_t p = ((a & kPageMask) == (va & kPageMask) ? pa[0] : pa[1]) | (a & ~kPageMask);
        if (write) {
            phys_write(bus, p, 1, data[k]);
        } else {
            uint64_t v = 0xff;
            if (!phys_read(bus, p, 1, &v)) v = 0xff;
            data[k] = uint8_t(v);
        }
    }
    if (write && s.common.engine) {
        s.common.engine->invalidate_phys(pa[0] | (va & ~kPageMask), std::min<uint64_t>(size, kPageSize - (va & ~kPageMask)));
        if (pages == 2) s.common.engine->invalidate_phys(pa[1], (va + size) & ~kPageMask);
    }
    return true;
}

}  // namespace

bool x86_read_virt(X86State& s, uint64_t va, void* out, unsigned size, unsigned cpl, X86Fault* fault) {
    std::memset(out, 0, size);
    return virt_access(s, va, static_cast<uint8_t*>(out), size, cpl, false, fault);
}

bool x86_write_virt(X86State& s, uint64_t va, const void* in, unsigned size, unsigned cpl, X86Fault* fault) {
    uint8_t buf[16];
    std::memcpy(buf, in, size);
    return virt_access(s, va, buf, size, cpl, true, fault);
}

std::optional<PageTranslation> X86Frontend::translate_address(CpuCommon* cpu, uint64_t va, Access access,
                                                              uint32_t* cause, uint64_t* detail) {
    X86State& s = x86_state(cpu);
    WalkOut w;
    const uint32_t r = walk(s, va, access, x86_cpl(s), &w);
    if (r == ~0u) {
        *cause = kVecGp | kCauseHasError;
        *detail = 0;
        return std::nullopt;
    }
    if (r) {
        *cause = kVecPf | kCauseHasError;
        *detail = r & 0x7fffffff;
        s.fault_va = va;
        return std::nullopt;
    }
    PageTranslation t;
    t.paddr_page = w.paddr & kPageMask;
    t.readable = true;
    t.writable = w.writable;
    t.executable = w.exec;
    return t;
}

void X86Frontend::bus_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) {
    // x86 has no bus errors; boards should back unassigned space (reads as ones). If an
    // access still fails, report it and raise #GP(0) rather than stop the machine.
    log::logf(log::kGuestErrors, "x86: access to unassigned address 0x{:x} ({}) at rip 0x{:x}", va,
              access == Access::kWrite ? "write" : access == Access::kRead ? "read" : "fetch", cpu->pc);
    *cause = kVecGp | kCauseHasError;
    *detail = 0;
}

void X86Frontend::alignment_fault(CpuCommon*, uint64_t, Access, uint32_t* cause, uint64_t* detail) {
    *cause = kVecAc | kCauseHasError;
    *detail = 0;
}

// Fetch faults found while translating are delivered from here (see deliver_exception).
uint32_t x86_fetch_fault_error(X86State& s, uint64_t va, bool* non_canonical) {
    WalkOut w;
    const uint32_t r = walk(s, va, Access::kExecute, x86_cpl(s), &w);
    *non_canonical = r == ~0u;
    if (r == 0 || r == ~0u) return 0;
    return r & 0x7fffffff;
}

}  // namespace corvid
