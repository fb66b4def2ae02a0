// Tests for the GICv2 model (register semantics: enable, pending, active, priority masking,
// preemption, the acknowledge/EOI flow, spurious reads, SGIs, guest errors, qtest intercept),
// the generic timer's conditions, and the virt board's wiring of both.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "base/run_control.h"
#include "frontends/a64/a64_frontend.h"
#include "hw/boards/boards.h"
#include "hw/intc/gicv2.h"
#include "hw/machine.h"
#include "hw/timer/arm_generic_timer.h"
#include "log_capture.h"

namespace corvid {
namespace {

// A GIC with its output recorded, the distributor and CPU interface enabled, no priority mask.
struct Gic {
    std::vector<bool> edges;  // every change of the output
    GicV2 gic{[this](bool level) { edges.push_back(level); }};

    void enable_all() {
        gic.dist_write(GicV2::kGicdCtlr, 1, 4);
        gic.cpu_write(GicV2::kGiccCtlr, 1, 4);
        gic.cpu_write(GicV2::kGiccPmr, 0xff, 4);
    }
    void enable(unsigned intid, uint8_t priority) {
        gic.dist_write(GicV2::kGicdIsenabler + 4 * (intid / 32), 1u << (intid % 32), 4);
        gic.dist_write(GicV2::kGicdIpriorityr + intid, priority, 1);
    }
    uint32_t iar() { return uint32_t(gic.cpu_read(GicV2::kGiccIar, 4)); }
    void eoi(uint32_t intid) { gic.cpu_write(GicV2::kGiccEoir, intid, 4); }
};

constexpr unsigned kSpi5 = 32 + 5;

TEST(Gic, ResetIdentificationAndSpurious) {
    Gic g;
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdTyper, 4), GicV2::kNumIrqs / 32 - 1);  // 288 IDs, one CPU
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIidr, 4), GicV2::kDistIidr);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccIidr, 4), GicV2::kCpuIidr);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIcfgr, 4), 0xaaaaaaaau);  // SGIs are edge-triggered
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIsenabler, 4), 0xffffu);  // SGIs always enabled
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdItargetsr + 27, 1), 0u);  // RAZ/WI: one CPU
    EXPECT_EQ(g.gic.dist_read(0xfe0, 4), 0x90u);                    // PIDR0
    EXPECT_EQ(g.iar(), GicV2::kSpurious);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccHppir, 4), GicV2::kSpurious);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0xffu);
    EXPECT_FALSE(g.gic.irq_output());
}

TEST(Gic, LevelSpiAcknowledgeEoiFlow) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x80);
    g.gic.set_spi(5, true);
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccHppir, 4), kSpi5);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIspendr + 4, 4), 1u << 5);
    EXPECT_EQ(g.iar(), kSpi5);
    EXPECT_FALSE(g.gic.irq_output());  // active: not signalled again
    EXPECT_TRUE(g.gic.active(kSpi5));
    EXPECT_TRUE(g.gic.pending(kSpi5));  // the line is still high: active and pending
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0x80u);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIsactiver + 4, 4), 1u << 5);
    EXPECT_EQ(g.iar(), GicV2::kSpurious);  // nothing else
    g.eoi(kSpi5);
    EXPECT_FALSE(g.gic.active(kSpi5));
    EXPECT_TRUE(g.gic.irq_output());  // level still high: pending again
    EXPECT_EQ(g.iar(), kSpi5);
    g.gic.set_spi(5, false);  // the device dropped its line (the driver acknowledged it)
    g.eoi(kSpi5);
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_FALSE(g.gic.pending(kSpi5));
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0xffu);
    EXPECT_EQ(g.edges, (std::vector<bool>{true, false, true, false}));
}

TEST(Gic, EdgeSpiLatchesUntilAcknowledged) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x10);
    g.gic.dist_write(GicV2::kGicdIcfgr + 8, 2u << 10, 4);  // INTID 37: ICFGR2 bits 11:10
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIcfgr + 8, 4), 2u << 10);
    g.gic.set_spi(5, true);
    g.gic.set_spi(5, false);
    EXPECT_TRUE(g.gic.pending(kSpi5));  // the edge was latched
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(g.iar(), kSpi5);
    EXPECT_FALSE(g.gic.pending(kSpi5));
    g.eoi(kSpi5);
    EXPECT_FALSE(g.gic.irq_output());
    // A level that stays high gives one edge only.
    g.gic.set_spi(5, true);
    EXPECT_EQ(g.iar(), kSpi5);
    g.eoi(kSpi5);
    EXPECT_FALSE(g.gic.irq_output());
}

TEST(Gic, DisabledInterruptsAndInterfacesDoNotSignal) {
    Gic g;
    g.gic.dist_write(GicV2::kGicdIpriorityr + kSpi5, 0x40, 1);
    g.gic.set_spi(5, true);
    g.enable_all();
    EXPECT_FALSE(g.gic.irq_output());  // not enabled
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccHppir, 4), GicV2::kSpurious);
    g.gic.dist_write(GicV2::kGicdIsenabler + 4, 1u << 5, 4);
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIsenabler + 4, 4), 1u << 5);
    g.gic.dist_write(GicV2::kGicdIcenabler + 4, 1u << 5, 4);
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIcenabler + 4, 4), 0u);
    g.gic.dist_write(GicV2::kGicdIsenabler + 4, 1u << 5, 4);
    g.gic.cpu_write(GicV2::kGiccCtlr, 0, 4);
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(g.iar(), GicV2::kSpurious);
    g.gic.cpu_write(GicV2::kGiccCtlr, 1, 4);
    g.gic.dist_write(GicV2::kGicdCtlr, 0, 4);
    EXPECT_FALSE(g.gic.irq_output());
    g.gic.dist_write(GicV2::kGicdCtlr, 1, 4);
    EXPECT_TRUE(g.gic.irq_output());
    // SGIs cannot be disabled through ICENABLER.
    g.gic.dist_write(GicV2::kGicdIcenabler, 0xffffffff, 4);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIsenabler, 4), 0xffffu);
}

TEST(Gic, PriorityMaskAndPreemption) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x80);
    g.enable(kSpi5 + 1, 0xa0);
    g.enable(kSpi5 + 2, 0x40);
    g.gic.cpu_write(GicV2::kGiccPmr, 0x80, 4);
    g.gic.set_spi(5, true);
    EXPECT_FALSE(g.gic.irq_output());  // priority 0x80 is not below the mask 0x80
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccHppir, 4), GicV2::kSpurious);
    EXPECT_EQ(g.iar(), GicV2::kSpurious);
    g.gic.cpu_write(GicV2::kGiccPmr, 0xf0, 4);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccPmr, 4), 0xf0u);
    EXPECT_EQ(g.iar(), kSpi5);
    g.gic.set_spi(6, true);  // lower priority than the running 0x80: waits
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(g.iar(), GicV2::kSpurious);
    g.gic.set_spi(7, true);  // higher priority: preempts
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(g.iar(), kSpi5 + 2);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0x40u);
    g.gic.set_spi(7, false);
    g.eoi(kSpi5 + 2);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0x80u);
    EXPECT_FALSE(g.gic.irq_output());
    g.gic.set_spi(5, false);
    g.eoi(kSpi5);
    EXPECT_TRUE(g.gic.irq_output());  // now the 0xa0 one
    EXPECT_EQ(g.iar(), kSpi5 + 1);
}

TEST(Gic, BinaryPointGroupsPriorities) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x40);
    g.enable(kSpi5 + 1, 0x30);
    g.gic.cpu_write(GicV2::kGiccBpr, 5, 4);  // group priority = bits [7:6]
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccBpr, 4), 5u);
    g.gic.set_spi(5, true);
    EXPECT_EQ(g.iar(), kSpi5);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0x40u);
    g.gic.set_spi(6, true);  // 0x30: group priority 0x00, below the running 0x40: preempts
    EXPECT_TRUE(g.gic.irq_output());
    g.enable(kSpi5 + 1, 0x50);  // group priority 0x40, as the running one: no preemption
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(g.iar(), GicV2::kSpurious);
}

TEST(Gic, SoftwarePendingAndActiveRegisters) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x20);
    g.gic.dist_write(GicV2::kGicdIspendr + 4, 1u << 5, 4);
    EXPECT_TRUE(g.gic.pending(kSpi5));
    EXPECT_TRUE(g.gic.irq_output());
    g.gic.dist_write(GicV2::kGicdIcpendr + 4, 1u << 5, 4);
    EXPECT_FALSE(g.gic.pending(kSpi5));
    EXPECT_FALSE(g.gic.irq_output());
    g.gic.dist_write(GicV2::kGicdIsactiver + 4, 1u << 5, 4);
    EXPECT_TRUE(g.gic.active(kSpi5));
    g.gic.dist_write(GicV2::kGicdIspendr + 4, 1u << 5, 4);
    EXPECT_FALSE(g.gic.irq_output());  // active interrupts are not signalled
    g.gic.dist_write(GicV2::kGicdIcactiver + 4, 1u << 5, 4);
    EXPECT_TRUE(g.gic.irq_output());
    // Byte access to the priority and target bytes.
    g.gic.dist_write(GicV2::kGicdIpriorityr + 36, 0x11223344, 4);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIpriorityr + 37, 1), 0x33u);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIpriorityr + 36, 2), 0x3344u);
    // ITARGETSR is RAZ/WI on a uniprocessor GIC: clearing it does not stop delivery.
    g.gic.dist_write(GicV2::kGicdItargetsr + kSpi5, 0xff, 1);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdItargetsr + kSpi5, 1), 0u);
    g.gic.dist_write(GicV2::kGicdItargetsr + kSpi5, 0, 1);
    EXPECT_TRUE(g.gic.irq_output());
}

TEST(Gic, SgiToSelf) {
    Gic g;
    g.enable_all();
    g.gic.dist_write(GicV2::kGicdIpriorityr + 3, 0x10, 1);
    g.gic.dist_write(GicV2::kGicdSgir, (1u << 24) | 3, 4);  // all but self: nobody
    EXPECT_FALSE(g.gic.irq_output());
    g.gic.dist_write(GicV2::kGicdSgir, (2u << 24) | 3, 4);  // self
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdSpendsgir, 4), 1u << 24);  // SGI 3, source CPU 0
    EXPECT_EQ(g.iar(), 3u);
    g.eoi(3);
    EXPECT_FALSE(g.gic.irq_output());
    g.gic.dist_write(GicV2::kGicdSgir, (0u << 24) | (1u << 16) | 9, 4);  // target list: CPU 0
    EXPECT_EQ(g.iar(), 9u);
    g.eoi(9);
    g.gic.dist_write(GicV2::kGicdSpendsgir + 2, 1, 1);
    EXPECT_TRUE(g.gic.pending(2));
    g.gic.dist_write(GicV2::kGicdCpendsgir + 2, 1, 1);
    EXPECT_FALSE(g.gic.pending(2));
}

TEST(Gic, EoiModeSplitsPriorityDropAndDeactivation) {
    Gic g;
    g.enable_all();
    g.gic.cpu_write(GicV2::kGiccCtlr, 1 | (1u << 9), 4);
    g.enable(kSpi5, 0x20);
    g.gic.dist_write(GicV2::kGicdIspendr + 4, 1u << 5, 4);
    EXPECT_EQ(g.iar(), kSpi5);
    g.eoi(kSpi5);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0xffu);  // priority dropped
    EXPECT_TRUE(g.gic.active(kSpi5));                     // still active
    g.gic.cpu_write(GicV2::kGiccDir, kSpi5, 4);
    EXPECT_FALSE(g.gic.active(kSpi5));
}

TEST(Gic, GuestErrorsAreLoggedAndIgnored) {
    testing::LogCapture log;
    Gic g;
    g.enable_all();
    // ISENABLER9 would be INTIDs 288..319: beyond the model.
    g.gic.dist_write(GicV2::kGicdIsenabler + 36, 0xffffffff, 4);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIsenabler + 36, 4), 0u);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdIpriorityr + GicV2::kNumIrqs, 1), 0u);
    g.gic.dist_write(GicV2::kGicdTyper, 0, 4);
    EXPECT_EQ(g.gic.dist_read(GicV2::kGicdTyper, 4), GicV2::kNumIrqs / 32 - 1);
    g.gic.dist_write(0x040, 1, 4);                // reserved
    (void)g.gic.dist_read(GicV2::kGicdSgir, 4);   // write-only
    g.gic.dist_write(GicV2::kGicdSgir, 2u << 24, 1);  // SGIR needs a word
    EXPECT_FALSE(g.gic.pending(0));
    g.gic.dist_write(0x2000, 1, 4);  // past the 4 KiB register file
    g.gic.cpu_write(GicV2::kGiccPmr, 0, 2);  // word-only
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccPmr, 4), 0xffu);
    g.gic.cpu_write(0x40, 1, 4);
    g.eoi(77);  // not active
    g.eoi(500);  // no such interrupt
    g.eoi(1023);  // spurious: silently ignored
    const std::string t = log.text();
    EXPECT_NE(t.find("gic: distributor write of 0xffffffff to reserved or read-only offset 0x124"), std::string::npos) << t;
    EXPECT_NE(t.find("offset 0x4\n"), std::string::npos) << t;
    EXPECT_NE(t.find("offset 0x40\n"), std::string::npos) << t;
    EXPECT_NE(t.find("GICD_SGIR written with a 1-byte access"), std::string::npos) << t;
    EXPECT_NE(t.find("read of reserved or write-only offset 0xf00"), std::string::npos) << t;
    EXPECT_NE(t.find("offset 0x2000"), std::string::npos) << t;
    EXPECT_NE(t.find("CPU interface write of size 2"), std::string::npos) << t;
    EXPECT_NE(t.find("EOI of interrupt 77 which is not active"), std::string::npos) << t;
    EXPECT_NE(t.find("EOI of invalid interrupt 500"), std::string::npos) << t;
    EXPECT_EQ(t.find("1023"), std::string::npos) << t;
}

TEST(Gic, AcknowledgeAfterSoftwareDeactivateKeepsOneEntryPerInterrupt) {
    // Acknowledge, clear the active state through ICACTIVER (no EOI), raise the priority and
    // acknowledge again: the interrupt's running priority entry is replaced, so one EOI ends it.
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x80);
    g.gic.set_spi(5, true);
    ASSERT_EQ(g.iar(), kSpi5);
    g.gic.dist_write(GicV2::kGicdIcactiver + 4, 1u << 5, 4);
    EXPECT_EQ(g.iar(), GicV2::kSpurious);  // same priority as the running one: no preemption
    g.gic.dist_write(GicV2::kGicdIpriorityr + kSpi5, 0x40, 1);
    ASSERT_EQ(g.iar(), kSpi5);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0x40u);
    g.gic.set_spi(5, false);
    g.eoi(kSpi5);
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0xffu);
    EXPECT_FALSE(g.gic.active(kSpi5));
}

TEST(Gic, RandomRegisterTrafficKeepsInvariants) {
    // Seeded random accesses anywhere in both windows (any size), random input lines (also out
    // of range): nothing crashes, and whenever the output is high an acknowledge returns a real
    // interrupt (the output is exactly "IAR would not be spurious").
    testing::LogCapture log(0);  // keep the guest_errors noise out of the test log
    Gic g;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const unsigned sizes[] = {1, 2, 4, 8};
    unsigned acks = 0;
    for (int n = 0; n < 100000; n++) {
        const uint64_t r = next();
        const unsigned size = sizes[r & 3];
        const uint64_t v = next();
        switch ((r >> 2) % 6) {
            case 0: g.gic.dist_write((r >> 8) % 0x1100, v, size); break;
            case 1: (void)g.gic.dist_read((r >> 8) % 0x1100, size); break;
            case 2: g.gic.cpu_write((r >> 8) % 0x1100 & ~3ull, v, (r >> 20) & 1 ? 4 : size); break;
            case 3: (void)g.gic.cpu_read((r >> 8) % 0x1100 & ~3ull, 4); break;  // includes IAR
            case 4: g.gic.set_spi(unsigned(v % 300), (v >> 32) & 1); break;
            default: g.gic.set_ppi(unsigned(v % 40), (v >> 32) & 1); break;
        }
        if (g.gic.irq_output()) {
            const uint32_t iar = g.iar();
            ASSERT_LT(iar & 0x3ff, GicV2::kNumIrqs) << "output high but IAR spurious at step " << n;
            acks++;
            g.eoi(iar);
        }
    }
    EXPECT_GT(acks, 0u);
    g.gic.reset();
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(g.gic.cpu_read(GicV2::kGiccRpr, 4), 0xffu);
}

class Recorder : public IrqObserver {
public:
    void irq_changed(int line, bool level) override { events.emplace_back(line, level); }
    std::vector<std::pair<int, bool>> events;
};

TEST(Gic, InterceptedSpisGoToTheObserver) {
    Gic g;
    g.enable_all();
    g.enable(kSpi5, 0x20);
    Recorder r;
    EXPECT_EQ(g.gic.irq_input_count(), 256);
    g.gic.set_irq_observer(&r);
    g.gic.set_spi(5, true);
    EXPECT_TRUE(g.gic.irq_output());  // reported and still delivered, as QEMU's irq_intercept_in
    g.gic.set_spi(5, false);
    EXPECT_FALSE(g.gic.irq_output());
    EXPECT_EQ(r.events, (std::vector<std::pair<int, bool>>{{5, true}, {5, false}}));
    g.gic.set_irq_observer(nullptr);
    g.gic.set_spi(5, true);
    EXPECT_TRUE(g.gic.irq_output());
    EXPECT_EQ(r.events.size(), 2u);  // no observer, no report
}

TEST(GenericTimer, ConditionsAndDeadline) {
    A64State s;
    s.cntv_cval_el0 = 1000;
    s.cntv_ctl_el0 = kTimerCtlEnable;
    GenericTimerLevels t = evaluate_generic_timer(s, 900);
    EXPECT_FALSE(t.virt);
    EXPECT_EQ(t.next_ticks, 100);
    EXPECT_EQ(s.cntv_ctl_el0 & kTimerCtlIstatus, 0u);
    t = evaluate_generic_timer(s, 1000);
    EXPECT_TRUE(t.virt);
    EXPECT_FALSE(t.phys);
    EXPECT_EQ(t.next_ticks, -1);
    EXPECT_NE(s.cntv_ctl_el0 & kTimerCtlIstatus, 0u);
    s.cntv_ctl_el0 |= kTimerCtlImask;  // ISTATUS stays, the interrupt goes
    t = evaluate_generic_timer(s, 2000);
    EXPECT_FALSE(t.virt);
    EXPECT_NE(s.cntv_ctl_el0 & kTimerCtlIstatus, 0u);
    s.cntv_ctl_el0 = 0;  // disabled: no status
    s.cntp_ctl_el0 = kTimerCtlEnable | kTimerCtlIstatus;  // a guest write of ISTATUS is ignored
    s.cntp_cval_el0 = 5000;
    t = evaluate_generic_timer(s, 2000);
    EXPECT_FALSE(t.phys);
    EXPECT_EQ(s.cntp_ctl_el0, kTimerCtlEnable);
    EXPECT_EQ(t.next_ticks, 3000);
    s.cntp_cval_el0 = ~0ull;  // "never"
    EXPECT_EQ(evaluate_generic_timer(s, 2000).next_ticks, -1);
}

class NullChar : public CharBackend {
public:
    void write(const uint8_t*, size_t) override {}
    void set_receiver(Receiver) override {}
};

// The virt board: GIC windows at QEMU's addresses, the timer PPIs through the platform hook.
struct VirtBoard {
    TypeRegistry reg;
    RunControl rc;
    NullChar chr;
    std::unique_ptr<Machine> m;
    Status status;

    VirtBoard() {
        register_root_types(reg);
        register_machine_types(reg, Arch::kAArch64);
        const TypeInfo* t = reg.find("virt");
        EXPECT_NE(t, nullptr);
        auto obj = reg.create(*t, {});
        EXPECT_TRUE(obj.ok());
        m.reset(static_cast<Machine*>(obj->release()));
        MachineOptions o;
        o.serial0 = &chr;
        o.run_control = &rc;
        status = m->init(o);
    }
    uint64_t read(uint64_t a) {
        uint64_t v = 0;
        EXPECT_EQ(m->memory().read(a, 4, &v), MemResult::kOk);
        return v;
    }
    void write(uint64_t a, uint64_t v) { EXPECT_EQ(m->memory().write(a, 4, v), MemResult::kOk); }
};

TEST(VirtGic, MappedAtQemuAddressesAndDrivenByTheTimer) {
    VirtBoard b;
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    EXPECT_EQ(b.read(0x0800'0004), GicV2::kNumIrqs / 32 - 1);
    EXPECT_EQ(b.read(0x0801'00fc), GicV2::kCpuIidr);
    EXPECT_NE(b.m->irq_intercept_target("gic"), nullptr);
    EXPECT_NE(b.m->irq_intercept_target("/machine/unattached/device[0]"), nullptr);
    EXPECT_EQ(b.m->irq_intercept_target("/machine/unattached/device[1]"), nullptr);  // the PL011
    b.write(0x0800'0000, 1);
    b.write(0x0801'0000, 1);
    b.write(0x0801'0004, 0xff);
    b.write(0x0800'0100, 1u << kTimerVirtIntid);
    A64State cpu;
    A64Platform* p = b.m->a64_platform();
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->irq_asserted(cpu));
    cpu.cntv_cval_el0 = A64Frontend::counter_ticks() + A64Frontend::kCounterHz;  // 1 s away
    cpu.cntv_ctl_el0 = kTimerCtlEnable;
    EXPECT_FALSE(p->irq_asserted(cpu));
    const int64_t ns = b.m->next_deadline_ns();
    EXPECT_GT(ns, 900'000'000);
    EXPECT_LE(ns, 1'000'000'100);
    cpu.cntv_cval_el0 = 0;  // in the past
    EXPECT_TRUE(p->irq_asserted(cpu));
    EXPECT_EQ(b.read(0x0801'000c), kTimerVirtIntid);
    EXPECT_FALSE(p->irq_asserted(cpu));  // active now
    cpu.cntv_ctl_el0 |= kTimerCtlImask;
    EXPECT_FALSE(p->irq_asserted(cpu));
    b.write(0x0801'0010, kTimerVirtIntid);
    EXPECT_FALSE(p->irq_asserted(cpu));  // masked at the timer
    cpu.cntv_ctl_el0 = kTimerCtlEnable;
    EXPECT_TRUE(p->irq_asserted(cpu));
    // The physical timer's PPI is not enabled in the distributor.
    cpu.cntv_ctl_el0 = 0;
    cpu.cntp_ctl_el0 = kTimerCtlEnable;
    EXPECT_FALSE(p->irq_asserted(cpu));
    EXPECT_EQ(b.read(0x0800'0200), 1u << kTimerPhysIntid);  // pending, not enabled
}

TEST(VirtGic, Pl011InterruptIsSpi1) {
    VirtBoard b;
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    b.write(0x0900'0038, 1u << 5);  // UARTIMSC: TX interrupt
    b.write(0x0900'0000, 'x');      // a transmitted byte raises TXRIS
    EXPECT_EQ(b.read(0x0800'0204), 1u << 1);  // GICD_ISPENDR1: INTID 33
    b.write(0x0900'0044, 1u << 5);  // UARTICR
    EXPECT_EQ(b.read(0x0800'0204), 0u);
}

TEST(VirtGic, FirstVirtioDeviceTakesTheHighestSlot) {
    // QEMU plugs the first -device virtio-*-device into the transport at 0x0a003e00 (slot 31,
    // SPI 47) and goes down from there.
    VirtBoard b;
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    const TypeInfo* rng = b.reg.find("virtio-rng-device");
    ASSERT_NE(rng, nullptr);
    OptionList props;
    props.items = {{"driver", "virtio-rng-device"}};
    ASSERT_TRUE(b.m->add_device(*rng, props).ok());
    ASSERT_TRUE(b.m->add_device(*rng, props).ok());
    EXPECT_EQ(b.read(0x0a00'3e00 + 0x008), 4u);
    EXPECT_EQ(b.read(0x0a00'3c00 + 0x008), 4u);
    EXPECT_EQ(b.read(0x0a00'3a00 + 0x008), 0u);
}

TEST(VirtGic, EmptyVirtioSlotsProbeAsVersion2WithoutDevice) {
    VirtBoard b;
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    for (uint64_t slot : {0u, 17u, 31u}) {
        const uint64_t base = 0x0a00'0000 + slot * 0x200;
        EXPECT_EQ(b.read(base + 0x000), 0x74726976u);
        EXPECT_EQ(b.read(base + 0x004), 2u);
        EXPECT_EQ(b.read(base + 0x008), 0u);  // no device
        EXPECT_EQ(b.read(base + 0x00c), 0x554d4551u);
        b.write(base + 0x070, 0xf);  // ignored
        EXPECT_EQ(b.read(base + 0x070), 0u);
    }
}

}  // namespace
}  // namespace corvid
