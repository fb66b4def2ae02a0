// GICv2 distributor and CPU interface for one CPU. The distributor is byte-addressable (as the
// architecture allows for most of it and QEMU allows for all of it), so every access is split
// into bytes; the CPU interface is word-only. Bad offsets and sizes are guest errors, ignored.
#include "hw/intc/gicv2.h"

#include <algorithm>

#include "base/log.h"

namespace corvid {

namespace {

// GICD_TYPER: ITLinesNumber = 32 * (N + 1) interrupt IDs, one CPU, no security extensions.
constexpr uint32_t kTyper = GicV2::kNumIrqs / 32 - 1;
// GICD_PIDR4..7, PIDR0..3, CIDR0..3 at 0xfd0..0xffc (one byte per word), as QEMU's GICv2.
constexpr uint8_t kIdRegs[12] = {0x04, 0x00, 0x00, 0x00, 0x90, 0xb4, 0x2b, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
constexpr uint32_t kCpuCtlrMask = 0x3ff;  // EnableGrp0/1, AckCtl, FIQEn, CBPR, bypass, EOImode
constexpr uint32_t kCtlrEoiMode = 1u << 9;
constexpr uint8_t kIdle = 0xff;  // running priority with nothing active

bool bad_dist_range(uint64_t offset) {
    return (offset >= 0x00c && offset < 0x080) || (offset >= 0xd00 && offset < 0xf00) ||
           (offset >= 0xf04 && offset < 0xf10) || (offset >= 0xf30 && offset < 0xfd0) || offset >= 0x1000;
}

}  // namespace

GicV2::GicV2(std::function<void(bool)> output) : output_(std::move(output)) { reset(); }

void GicV2::reset() {
    irq_.fill(Irq{});
    for (unsigned i = 0; i < kNumSgis; i++) {
        // SGIs are always enabled and edge-triggered in QEMU's GICv2.
        irq_[i].enabled = true;
        irq_[i].edge = true;
    }
    dist_ctlr_ = 0;
    cpu_ctlr_ = 0;
    pmr_ = 0;
    bpr_ = 0;
    abpr_ = 1;
    active_depth_ = 0;
    update();
}

bool GicV2::pending(unsigned intid) const {
    if (intid >= kNumIrqs) return false;
    const Irq& i = irq_[intid];
    return i.latch || (!i.edge && i.line);
}

void GicV2::set_line(unsigned intid, bool level) {
    Irq& i = irq_[intid];
    // Boards re-assert unchanged levels often (the timer PPIs on every IRQ-line query).
    if (i.line == level) return;
    if (i.edge && level && !i.line) i.latch = true;
    i.line = level;
    update();
}

void GicV2::set_spi(unsigned spi, bool level) {
    if (spi >= kNumSpis) return;
    // Reported to an intercepting qtest and still delivered, as QEMU's qtest does.
    if (observer_) observer_->irq_changed(int(spi), level);
    set_line(kNumPrivate + spi, level);
}

void GicV2::set_ppi(unsigned intid, bool level) {
    if (intid < kNumSgis || intid >= kNumPrivate) return;
    set_line(intid, level);
}

uint8_t GicV2::group_priority(uint8_t priority) const {
    // Group 0 uses BPR: the group priority is bits [7:BPR+1]. Group 1 would use ABPR.
    return uint8_t(priority & (0xffu << (bpr_ + 1)));
}

bool GicV2::group_enabled(const Irq& irq) const {
    const unsigned g = irq.group1 ? 1 : 0;
    return ((dist_ctlr_ >> g) & 1) && ((cpu_ctlr_ >> g) & 1);
}

unsigned GicV2::highest_pending() const {
    unsigned best = kSpurious;
    unsigned best_prio = 0x100;
    for (unsigned n = 0; n < kNumIrqs; n++) {
        const Irq& i = irq_[n];
        if (!i.enabled || i.active || !pending(n)) continue;
        if (!((dist_ctlr_ >> (i.group1 ? 1 : 0)) & 1)) continue;
        if (i.priority < best_prio) {  // ties: the lowest INTID wins
            best_prio = i.priority;
            best = n;
        }
    }
    return best;
}

uint8_t GicV2::running_priority() const {
    uint8_t rp = kIdle;
    for (unsigned d = 0; d < active_depth_; d++) rp = std::min(rp, active_prio_[d]);
    return rp;
}

void GicV2::update() {
    bool level = false;
    const unsigned best = highest_pending();
    if (best != kSpurious) {
        const Irq& i = irq_[best];
        level = group_enabled(i) && i.priority < pmr_ && group_priority(i.priority) < running_priority();
    }
    if (level != output_level_) {
        output_level_ = level;
        if (output_) output_(level);
    }
}

bool GicV2::remove_from_stack(unsigned intid) {
    for (unsigned d = active_depth_; d-- > 0;) {
        if (active_stack_[d] != intid) continue;
        for (unsigned k = d + 1; k < active_depth_; k++) {
            active_stack_[k - 1] = active_stack_[k];
            active_prio_[k - 1] = active_prio_[k];
        }
        active_depth_--;
        return true;
    }
    return false;
}

uint32_t GicV2::acknowledge() {
    const unsigned best = highest_pending();
    if (best == kSpurious) return kSpurious;
    Irq& i = irq_[best];
    if (!group_enabled(i) || i.priority >= pmr_ || group_priority(i.priority) >= running_priority()) return kSpurious;
    i.latch = false;  // a level-sensitive interrupt whose line is still high stays pending
    i.active = true;
    // An INTID is on the stack at most once (software may have cleared its active state
    // through ICACTIVER without an EOI): that bounds the stack by kNumIrqs.
    remove_from_stack(best);
    active_stack_[active_depth_] = uint16_t(best);
    active_prio_[active_depth_] = group_priority(i.priority);
    active_depth_++;
    update();
    return best;  // SGIs carry the source CPU in bits 12:10: always CPU 0 here
}

void GicV2::end_of_interrupt(uint32_t value) {
    const unsigned intid = value & 0x3ff;
    if (intid >= 1020) return;  // EOI of a spurious ID: ignored, as the architecture says
    if (intid >= kNumIrqs) {
        log::logf(log::kGuestErrors, "gic: EOI of invalid interrupt {}", intid);
        return;
    }
    // Priority drop: the entry may not be the most recent one (out-of-order EOI is
    // UNPREDICTABLE in GICv2; QEMU unlinks it wherever it is, and so do we).
    if (!remove_from_stack(intid)) {
        log::logf(log::kGuestErrors, "gic: EOI of interrupt {} which is not active", intid);
        return;
    }
    if (!(cpu_ctlr_ & kCtlrEoiMode)) irq_[intid].active = false;
    update();
}

uint8_t GicV2::dist_read_byte(uint64_t offset) {
    if (offset < 0x4) return offset == 0 ? uint8_t(dist_ctlr_) : 0;
    if (offset < 0x8) return uint8_t(kTyper >> (8 * (offset - 0x4)));
    if (offset < 0xc) return uint8_t(kDistIidr >> (8 * (offset - 0x8)));
    if (offset >= kGicdIgroupr && offset < kGicdIpriorityr) {
        const uint64_t reg = (offset - kGicdIgroupr) / 0x80;  // which of the eight bit arrays
        const unsigned first = unsigned((offset - kGicdIgroupr) % 0x80) * 8;
        uint8_t v = 0;
        for (unsigned b = 0; b < 8 && first + b < kNumIrqs; b++) {
            const Irq& i = irq_[first + b];
            bool bit = false;
            switch (reg) {
                case 0: bit = i.group1; break;
                case 1:
                case 2: bit = i.enabled; break;
                case 3:
                case 4: bit = first + b >= kNumSgis && pending(first + b); break;  // SGIs: see SPENDSGIR
                default: bit = i.active; break;
            }
            v |= uint8_t(bit) << b;
        }
        return v;
    }
    if (offset >= kGicdIpriorityr && offset < kGicdItargetsr) {
        const uint64_t n = offset - kGicdIpriorityr;
        return n < kNumIrqs ? irq_[n].priority : 0;
    }
    // ITARGETSR: RAZ/WI on a uniprocessor GIC (as QEMU's): every interrupt targets the CPU.
    if (offset >= kGicdIcfgr && offset < 0xd00) {
        const unsigned first = unsigned(offset - kGicdIcfgr) * 4;
        uint8_t v = 0;
        for (unsigned b = 0; b < 4 && first + b < kNumIrqs; b++) v |= uint8_t(irq_[first + b].edge ? 2 : 0) << (2 * b);
        return v;
    }
    if (offset >= kGicdCpendsgir && offset < 0xf30) {
        const unsigned sgi = unsigned(offset - kGicdCpendsgir) & 0xf;
        return irq_[sgi].latch ? 1 : 0;  // the only source is CPU 0
    }
    if (offset >= kGicdIdRegs && offset < 0x1000) {
        const uint64_t n = offset - kGicdIdRegs;
        return (n % 4 == 0) ? kIdRegs[n / 4] : 0;
    }
    return 0;  // SGIR (write-only) and reserved space: the caller logged it
}

void GicV2::dist_write_byte(uint64_t offset, uint8_t value) {
    if (offset == 0) {
        dist_ctlr_ = value & 3u;  // EnableGrp0, EnableGrp1
        return;
    }
    if (offset < 0xc) return;  // TYPER, IIDR: read-only (the caller logged it)
    if (offset >= kGicdIgroupr && offset < kGicdIpriorityr) {
        const uint64_t reg = (offset - kGicdIgroupr) / 0x80;
        const unsigned first = unsigned((offset - kGicdIgroupr) % 0x80) * 8;
        for (unsigned b = 0; b < 8 && first + b < kNumIrqs; b++) {
            const unsigned n = first + b;
            Irq& i = irq_[n];
            const bool bit = (value >> b) & 1;
            switch (reg) {
                case 0: i.group1 = bit; break;
                case 1: if (bit) i.enabled = true; break;
                case 2: if (bit && n >= kNumSgis) i.enabled = false; break;  // SGIs stay enabled
                case 3: if (bit && n >= kNumSgis) i.latch = true; break;     // SGIs: SPENDSGIR
                case 4: if (bit && n >= kNumSgis) i.latch = false; break;
                case 5: if (bit) i.active = true; break;
                default: if (bit) i.active = false; break;
            }
        }
        return;
    }
    if (offset >= kGicdIpriorityr && offset < kGicdItargetsr) {
        const uint64_t n = offset - kGicdIpriorityr;
        if (n < kNumIrqs) irq_[n].priority = value;
        return;
    }
    if (offset >= kGicdItargetsr && offset < kGicdIcfgr) return;  // RAZ/WI: one CPU
    if (offset >= kGicdIcfgr && offset < 0xd00) {
        const unsigned first = unsigned(offset - kGicdIcfgr) * 4;
        for (unsigned b = 0; b < 4 && first + b < kNumIrqs; b++) {
            if (first + b >= kNumSgis) irq_[first + b].edge = (value >> (2 * b + 1)) & 1;
        }
        return;
    }
    if (offset >= kGicdCpendsgir && offset < 0xf30) {
        const unsigned sgi = unsigned(offset - kGicdCpendsgir) & 0xf;
        if (value & 1) irq_[sgi].latch = offset >= kGicdSpendsgir;
        return;
    }
}

uint64_t GicV2::dist_read(uint64_t offset, unsigned size) {
    if (size != 1 && size != 2 && size != 4) {
        log::logf(log::kGuestErrors, "gic: distributor read of size {} at 0x{:x}", size, offset);
        return 0;
    }
    if (bad_dist_range(offset) || (offset >= kGicdSgir && offset < kGicdSgir + 4) ||
        (offset >= kGicdIgroupr && offset < kGicdIpriorityr &&
         ((offset - kGicdIgroupr) % 0x80) * 8 >= kNumIrqs) ||
        (offset >= kGicdIpriorityr && offset < kGicdIcfgr && ((offset - kGicdIpriorityr) % 0x400) >= kNumIrqs) ||
        (offset >= kGicdIcfgr && offset < 0xd00 && (offset - kGicdIcfgr) * 4 >= kNumIrqs)) {
        log::logf(log::kGuestErrors, "gic: distributor read of reserved or write-only offset 0x{:x}", offset);
        return 0;
    }
    uint64_t v = 0;
    for (unsigned b = 0; b < size; b++) v |= uint64_t(dist_read_byte(offset + b)) << (8 * b);
    return v;
}

void GicV2::dist_write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 && size != 2 && size != 4) {
        log::logf(log::kGuestErrors, "gic: distributor write of size {} at 0x{:x}", size, offset);
        return;
    }
    if (offset >= kGicdSgir && offset < kGicdSgir + 4) {
        if (offset != kGicdSgir || size != 4) {
            log::logf(log::kGuestErrors, "gic: GICD_SGIR written with a {}-byte access at 0x{:x}", size, offset);
            return;
        }
        const unsigned filter = unsigned(value >> 24) & 3;
        const unsigned targets = unsigned(value >> 16) & 0xff;
        const unsigned sgi = unsigned(value) & 0xf;
        // 0: the target list (CPU 0 is the only one), 1: all but self (nobody), 2: self.
        if ((filter == 0 && (targets & 1)) || filter == 2) irq_[sgi].latch = true;
        if (filter == 3) log::logf(log::kGuestErrors, "gic: GICD_SGIR with reserved target filter 3");
        update();
        return;
    }
    if (bad_dist_range(offset) || (offset >= 0x4 && offset < 0xc) ||
        (offset >= kGicdIgroupr && offset < kGicdIpriorityr &&
         ((offset - kGicdIgroupr) % 0x80) * 8 >= kNumIrqs) ||
        (offset >= kGicdIpriorityr && offset < kGicdIcfgr && ((offset - kGicdIpriorityr) % 0x400) >= kNumIrqs) ||
        (offset >= kGicdIcfgr && offset < 0xd00 && (offset - kGicdIcfgr) * 4 >= kNumIrqs) || offset >= kGicdIdRegs) {
        log::logf(log::kGuestErrors, "gic: distributor write of 0x{:x} to reserved or read-only offset 0x{:x}",
                  value, offset);
        return;
    }
    for (unsigned b = 0; b < size; b++) dist_write_byte(offset + b, uint8_t(value >> (8 * b)));
    update();
}

uint64_t GicV2::cpu_read(uint64_t offset, unsigned size) {
    if (size != 4) {
        log::logf(log::kGuestErrors, "gic: CPU interface read of size {} at 0x{:x}", size, offset);
        return 0;
    }
    switch (offset) {
        case kGiccCtlr: return cpu_ctlr_;
        case kGiccPmr: return pmr_;
        case kGiccBpr: return bpr_;
        case kGiccAbpr: return abpr_;
        case kGiccIar:
        case kGiccAiar: return acknowledge();
        case kGiccRpr: return running_priority();
        case kGiccHppir:
        case kGiccAhppir: {
            const unsigned best = highest_pending();
            return (best != kSpurious && irq_[best].priority < pmr_) ? best : kSpurious;
        }
        case kGiccApr:
        case kGiccApr + 4:
        case kGiccApr + 8:
        case kGiccApr + 12:
        case kGiccNsapr:
        case kGiccNsapr + 4:
        case kGiccNsapr + 8:
        case kGiccNsapr + 12: return 0;
        case kGiccIidr: return kCpuIidr;
        default:
            log::logf(log::kGuestErrors, "gic: CPU interface read of reserved or write-only offset 0x{:x}", offset);
            return 0;
    }
}

void GicV2::cpu_write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 4) {
        log::logf(log::kGuestErrors, "gic: CPU interface write of size {} at 0x{:x}", size, offset);
        return;
    }
    const uint32_t v = uint32_t(value);
    switch (offset) {
        case kGiccCtlr: cpu_ctlr_ = v & kCpuCtlrMask; break;
        case kGiccPmr: pmr_ = uint8_t(v); break;
        case kGiccBpr: bpr_ = uint8_t(v & 7); break;
        case kGiccAbpr: abpr_ = uint8_t(std::max(v & 7, 1u)); break;
        case kGiccEoir:
        case kGiccAeoir: end_of_interrupt(v); return;
        case kGiccDir: {
            const unsigned intid = v & 0x3ff;
            if (intid < kNumIrqs) {
                irq_[intid].active = false;
            } else if (intid < 1020) {
                log::logf(log::kGuestErrors, "gic: GICC_DIR of invalid interrupt {}", intid);
            }
            break;
        }
        case kGiccApr:
        case kGiccApr + 4:
        case kGiccApr + 8:
        case kGiccApr + 12:
        case kGiccNsapr:
        case kGiccNsapr + 4:
        case kGiccNsapr + 8:
        case kGiccNsapr + 12: return;
        default:
            log::logf(log::kGuestErrors, "gic: CPU interface write of 0x{:x} to reserved or read-only offset 0x{:x}",
                      v, offset);
            return;
    }
    update();
}

}  // namespace corvid
