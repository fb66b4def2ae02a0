// The cascaded i8259A interrupt controller pair of the PC (master 0x20, slave 0xa0 on IRQ2,
// ELCR at 0x4d0/0x4d1): the board's INTR source for the CPU.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/irq.h"
#include "hw/machine.h"
#include "hw/memory_map.h"

namespace corvid {

// qtest's irq_intercept_in sees the 16 ISA input lines; irq_intercept_out (output_intercept())
// sees INTR as line 0.
class I8259Pair : public X86InterruptSource, public IrqInterceptTarget {
public:
    // One 8259A. Registers and the priority logic follow the datasheet; the cascade is the
    // pair's business.
    struct Chip {
        uint8_t irr = 0, imr = 0, isr = 0;
        uint8_t last_level = 0;  // input levels, for edge detection
        uint8_t elcr = 0, elcr_mask = 0;
        uint8_t priority_add = 0;  // rotation: the IRQ with the highest priority
        uint8_t irq_base = 0;
        uint8_t init_state = 0;  // 0: ready, 1: expect ICW2, 2: ICW3, 3: ICW4
        bool init4 = false, single = false, auto_eoi = false, rotate_on_auto_eoi = false;
        bool special_fully_nested = false, special_mask = false, poll = false, read_isr = false;

        void reset();
        int highest(uint8_t mask) const;  // priority level 0..7 of the best bit, 8 if none
        int pending(bool is_master) const;  // the IRQ to request, -1 if none
    };

    // `kick` is called when INTR rises (the CPU should leave guest code and take it).
    explicit I8259Pair(std::function<void()> kick = {});

    void reset();

    // Input lines 0-15 (8-15 on the slave). Edge or level triggered per ELCR.
    void set_irq(int irq, bool level);

    // X86InterruptSource. acknowledge() returns the spurious vector (IRQ7 / IRQ15 of the
    // respective base) when the request went away before INTA, as the hardware does.
    bool intr_pending() const override;
    int acknowledge() override;

    // The I/O windows: 2 ports each for master/slave, 2 ports of ELCR.
    MmioOps* master_ops() { return &master_io_; }
    MmioOps* slave_ops() { return &slave_io_; }
    MmioOps* elcr_ops() { return &elcr_io_; }

    const Chip& chip(int i) const { return chips_[i]; }

    // IrqInterceptTarget: the 16 input lines. While observed, input changes are reported to
    // the observer and still reach the chips (as with QEMU's qtest).
    int irq_input_count() const override { return 16; }
    void set_irq_observer(IrqObserver* observer) override;
    bool set_irq_input(int line, bool level) override {
        if (line < 0 || line >= 16) return false;
        set_irq(line, level);
        return true;
    }
    // The INTR output as an intercept target with one line (still delivered to the CPU).
    IrqInterceptTarget* output_intercept() { return &output_; }

private:
    struct OutputIntercept : IrqInterceptTarget {
        IrqObserver* observer = nullptr;
        int irq_input_count() const override { return 1; }
        void set_irq_observer(IrqObserver* o) override { observer = o; }
    };

    struct ChipIo : MmioOps {
        I8259Pair* pair;
        int index;
        ChipIo(I8259Pair* p, int i) : pair(p), index(i) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, uint64_t value, unsigned size) override;
    };
    struct ElcrIo : MmioOps {
        I8259Pair* pair;
        explicit ElcrIo(I8259Pair* p) : pair(p) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, uint64_t value, unsigned size) override;
    };

    uint8_t read_port(int chip, unsigned port);
    void write_port(int chip, unsigned port, uint8_t value);
    void set_chip_irq(int chip, int irq, bool level);
    void intack(int chip, int irq);
    // Re-evaluates the cascade (slave output -> master IRQ2) and INTR; kicks on a rising INTR.
    void update();

    Chip chips_[2];
    bool intr_ = false;
    uint16_t line_levels_ = 0;  // the input lines as devices last drove them
    IrqObserver* observer_ = nullptr;
    OutputIntercept output_;
    std::function<void()> kick_;
    ChipIo master_io_{this, 0};
    ChipIo slave_io_{this, 1};
    ElcrIo elcr_io_{this};
};

}  // namespace corvid
