// Tests for the i8259 pair: initialisation, vectors, priorities and rotation, EOI forms,
// masking, the cascade, level mode via ELCR, auto-EOI, poll mode and spurious interrupts.
#include <gtest/gtest.h>

#include "hw/intc/i8259.h"
#include "log_capture.h"

namespace corvid {
namespace {

struct PicFixture : ::testing::Test {
    int kicks = 0;
    I8259Pair pic{[this] { kicks++; }};

    void out(int chip, unsigned port, uint8_t v) { (chip ? pic.slave_ops() : pic.master_ops())->write(port, v, 1); }
    uint8_t in(int chip, unsigned port) { return static_cast<uint8_t>((chip ? pic.slave_ops() : pic.master_ops())->read(port, 1)); }
    // The usual PC set-up: vectors 0x20/0x28, cascade on IRQ2, 8086 mode, `icw4` extra bits.
    void init(uint8_t icw4 = 0x01) {
        out(0, 0, 0x11);
        out(1, 0, 0x11);
        out(0, 1, 0x20);
        out(1, 1, 0x28);
        out(0, 1, 0x04);
        out(1, 1, 0x02);
        out(0, 1, icw4);
        out(1, 1, icw4);
        out(0, 1, 0x00);
        out(1, 1, 0x00);
    }
    void pulse(int irq) {
        pic.set_irq(irq, true);
        pic.set_irq(irq, false);
    }
    void eoi(int chip) { out(chip, 0, 0x20); }
};

TEST_F(PicFixture, InitialisationSetsVectorBase) {
    init();
    EXPECT_FALSE(pic.intr_pending());
    pulse(1);
    EXPECT_TRUE(pic.intr_pending());
    EXPECT_EQ(kicks, 1);
    EXPECT_EQ(pic.acknowledge(), 0x21);
    EXPECT_FALSE(pic.intr_pending());
    EXPECT_EQ(pic.chip(0).isr, 0x02);
}

TEST_F(PicFixture, PriorityAndNesting) {
    init();
    pulse(3);
    pulse(5);
    EXPECT_EQ(pic.acknowledge(), 0x23);
    // IRQ5 has lower priority than the in-service IRQ3: held back until EOI.
    EXPECT_FALSE(pic.intr_pending());
    pulse(1);  // higher priority nests
    EXPECT_TRUE(pic.intr_pending());
    EXPECT_EQ(pic.acknowledge(), 0x21);
    eoi(0);  // non-specific EOI clears the highest in service (IRQ1)
    EXPECT_EQ(pic.chip(0).isr, 0x08);
    EXPECT_FALSE(pic.intr_pending());
    eoi(0);
    EXPECT_TRUE(pic.intr_pending());
    EXPECT_EQ(pic.acknowledge(), 0x25);
}

TEST_F(PicFixture, SpecificEoiAndRotation) {
    init();
    pulse(3);
    EXPECT_EQ(pic.acknowledge(), 0x23);
    out(0, 0, 0x60 | 3);  // specific EOI for IRQ3
    EXPECT_EQ(pic.chip(0).isr, 0);
    // Rotate on non-specific EOI: the serviced IRQ becomes the lowest priority.
    pulse(0);
    EXPECT_EQ(pic.acknowledge(), 0x20);
    out(0, 0, 0xa0);
    pulse(0);
    pulse(4);
    EXPECT_EQ(pic.acknowledge(), 0x24);  // IRQ0 now ranks below IRQ4
    eoi(0);
    EXPECT_EQ(pic.acknowledge(), 0x20);
}

TEST_F(PicFixture, MaskHoldsRequestsInIrr) {
    init();
    out(0, 1, 0x01);
    EXPECT_EQ(in(0, 1), 0x01);
    pulse(0);
    EXPECT_FALSE(pic.intr_pending());
    EXPECT_EQ(in(0, 0), 0x01);  // IRR (default read register)
    out(0, 1, 0x00);
    EXPECT_TRUE(pic.intr_pending());
    out(0, 0, 0x0b);  // OCW3: read ISR
    EXPECT_EQ(pic.acknowledge(), 0x20);
    EXPECT_EQ(in(0, 0), 0x01);
}

TEST_F(PicFixture, CascadeDeliversSlaveVectors) {
    init();
    pulse(12);
    EXPECT_TRUE(pic.intr_pending());
    EXPECT_EQ(pic.acknowledge(), 0x2c);
    EXPECT_EQ(pic.chip(1).isr, 0x10);
    EXPECT_EQ(pic.chip(0).isr, 0x04);
    eoi(1);
    eoi(0);
    EXPECT_EQ(pic.chip(0).isr, 0);
    EXPECT_EQ(pic.chip(1).isr, 0);
}

TEST_F(PicFixture, EdgeNeedsANewRisingEdge) {
    init();
    pic.set_irq(4, true);
    EXPECT_EQ(pic.acknowledge(), 0x24);
    eoi(0);
    EXPECT_FALSE(pic.intr_pending());  // line still high, but no new edge
    pic.set_irq(4, false);
    pic.set_irq(4, true);
    EXPECT_TRUE(pic.intr_pending());
}

TEST_F(PicFixture, LevelTriggeredViaElcr) {
    init();
    pic.elcr_ops()->write(1, 0x08, 1);  // IRQ11 level
    EXPECT_EQ(pic.elcr_ops()->read(1, 1), 0x08u);
    pic.elcr_ops()->write(0, 0x07, 1);  // IRQ0-2 cannot be level
    EXPECT_EQ(pic.elcr_ops()->read(0, 1), 0x00u);
    pic.set_irq(11, true);
    EXPECT_EQ(pic.acknowledge(), 0x2b);
    eoi(1);
    eoi(0);
    EXPECT_TRUE(pic.intr_pending());  // still asserted: requests again
    // The line drops before INTA: the cascade request latched on the master remains, and
    // the acknowledge finds nothing on the slave, so it reads the spurious IRQ15 vector.
    pic.set_irq(11, false);
    EXPECT_EQ(pic.acknowledge(), 0x2f);
    EXPECT_EQ(pic.chip(1).isr, 0);
}

TEST_F(PicFixture, AutoEoi) {
    init(0x03);
    pulse(6);
    EXPECT_EQ(pic.acknowledge(), 0x26);
    EXPECT_EQ(pic.chip(0).isr, 0);
}

TEST_F(PicFixture, SpuriousWhenRequestVanishes) {
    init();
    EXPECT_EQ(pic.acknowledge(), 0x27);  // nothing pending: spurious IRQ7
    EXPECT_EQ(pic.chip(0).isr, 0);
}

TEST_F(PicFixture, PollMode) {
    init();
    pulse(5);
    out(0, 0, 0x0c);  // OCW3 poll
    EXPECT_EQ(in(0, 0), 0x85);
    EXPECT_EQ(pic.chip(0).isr, 0x20);
    out(0, 0, 0x0c);
    EXPECT_EQ(in(0, 0), 0x00);
}

TEST_F(PicFixture, BadAccessesLogged) {
    testing::LogCapture log;
    EXPECT_EQ(pic.master_ops()->read(0, 2), 0xffu);
    pic.set_irq(16, true);
    EXPECT_TRUE(log.contains("i8259: bad read of size 2"));
    EXPECT_TRUE(log.contains("IRQ 16 out of range"));
}

}  // namespace
}  // namespace corvid
