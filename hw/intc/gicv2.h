// The Arm GICv2 interrupt controller (one CPU interface, no security extensions) as QEMU's
// virt board builds it with gic-version=2: the distributor and the CPU interface windows.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "hw/irq.h"
#include "hw/memory_map.h"

namespace corvid {

class GicV2 : public IrqInterceptTarget {
public:
    static constexpr unsigned kNumSgis = 16;
    static constexpr unsigned kNumPrivate = 32;   // SGIs + PPIs
    static constexpr unsigned kNumSpis = 256;     // QEMU's virt: NUM_IRQS
    static constexpr unsigned kNumIrqs = kNumPrivate + kNumSpis;
    static constexpr unsigned kSpurious = 1023;
    static constexpr uint32_t kDistIidr = 0x0200043b;  // Arm, GICv2 (as QEMU reports it)
    static constexpr uint32_t kCpuIidr = 0x0002043b;

    // Distributor registers (GICD_*), offsets in the 0x1000-byte window.
    enum : uint64_t {
        kGicdCtlr = 0x000, kGicdTyper = 0x004, kGicdIidr = 0x008,
        kGicdIgroupr = 0x080, kGicdIsenabler = 0x100, kGicdIcenabler = 0x180,
        kGicdIspendr = 0x200, kGicdIcpendr = 0x280, kGicdIsactiver = 0x300, kGicdIcactiver = 0x380,
        kGicdIpriorityr = 0x400, kGicdItargetsr = 0x800, kGicdIcfgr = 0xc00, kGicdSgir = 0xf00,
        kGicdCpendsgir = 0xf10, kGicdSpendsgir = 0xf20, kGicdIdRegs = 0xfd0,
    };
    // CPU interface registers (GICC_*).
    enum : uint64_t {
        kGiccCtlr = 0x00, kGiccPmr = 0x04, kGiccBpr = 0x08, kGiccIar = 0x0c, kGiccEoir = 0x10,
        kGiccRpr = 0x14, kGiccHppir = 0x18, kGiccAbpr = 0x1c, kGiccAiar = 0x20, kGiccAeoir = 0x24,
        kGiccAhppir = 0x28, kGiccApr = 0xd0, kGiccNsapr = 0xe0, kGiccIidr = 0xfc, kGiccDir = 0x1000,
    };

    // `output` drives the CPU's IRQ input (level); it is called whenever the level changes.
    explicit GicV2(std::function<void(bool)> output = {});

    void reset();

    // Input lines. SPI n is INTID 32 + n; a PPI is given by its INTID (16..31), one CPU.
    void set_spi(unsigned spi, bool level);
    void set_ppi(unsigned intid, bool level);

    // The level of the output to the CPU (IRQ).
    bool irq_output() const { return output_level_; }

    MmioOps* distributor() { return &dist_io_; }
    MmioOps* cpu_interface() { return &cpu_io_; }

    // IrqInterceptTarget: the SPI inputs (line n = SPI n). While an observer is set, SPI changes
    // go to it instead of the distributor, as QEMU's irq_intercept_in does.
    int irq_input_count() const override { return int(kNumSpis); }
    void set_irq_observer(IrqObserver* observer) override { observer_ = observer; }

    // Distributor and CPU interface accesses (also what the MMIO windows call).
    uint64_t dist_read(uint64_t offset, unsigned size);
    void dist_write(uint64_t offset, uint64_t value, unsigned size);
    uint64_t cpu_read(uint64_t offset, unsigned size);
    void cpu_write(uint64_t offset, uint64_t value, unsigned size);

    // State queries for tests and the monitor.
    bool pending(unsigned intid) const;
    bool active(unsigned intid) const { return intid < kNumIrqs && irq_[intid].active; }
    uint8_t running_priority() const;

private:
    struct Irq {
        bool enabled = false;
        bool latch = false;   // pending latch (edge, ISPENDR, SGIR)
        bool active = false;
        bool line = false;    // input level
        bool edge = false;    // ICFGR: edge-triggered
        bool group1 = false;
        uint8_t priority = 0;
    };
    struct Window : MmioOps {
        GicV2* gic;
        bool cpu;
        Window(GicV2* g, bool c) : gic(g), cpu(c) {}
        uint64_t read(uint64_t offset, unsigned size) override {
            return cpu ? gic->cpu_read(offset, size) : gic->dist_read(offset, size);
        }
        void write(uint64_t offset, uint64_t value, unsigned size) override {
            cpu ? gic->cpu_write(offset, value, size) : gic->dist_write(offset, value, size);
        }
    };

    void set_line(unsigned intid, bool level);
    uint8_t dist_read_byte(uint64_t offset);
    void dist_write_byte(uint64_t offset, uint8_t value);
    // The highest-priority pending, enabled, inactive interrupt (kSpurious if none).
    unsigned highest_pending() const;
    uint8_t group_priority(uint8_t priority) const;
    bool group_enabled(const Irq& irq) const;
    uint32_t acknowledge();
    bool remove_from_stack(unsigned intid);  // priority drop of `intid`; false if not there
    void end_of_interrupt(uint32_t value);
    void update();

    std::array<Irq, kNumIrqs> irq_{};
    uint32_t dist_ctlr_ = 0;
    uint32_t cpu_ctlr_ = 0;
    uint8_t pmr_ = 0;
    uint8_t bpr_ = 0, abpr_ = 0;
    // Group priorities of the active interrupts in acknowledge order (GICv2 nesting): the running
    // priority is the lowest value among them. Indexed by depth; at most one entry per INTID.
    std::array<uint16_t, kNumIrqs> active_stack_{};
    std::array<uint8_t, kNumIrqs> active_prio_{};
    unsigned active_depth_ = 0;
    bool output_level_ = false;
    std::function<void(bool)> output_;
    IrqObserver* observer_ = nullptr;
    Window dist_io_{this, false};
    Window cpu_io_{this, true};
};

}  // namespace corvid
