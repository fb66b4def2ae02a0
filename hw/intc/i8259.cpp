// i8259A pair. Fully nested priority with rotation, specific/non-specific EOI, auto-EOI,
// special mask, poll mode, edge/level inputs (ELCR) and the spurious IRQ7/IRQ15 behaviour.
#include "hw/intc/i8259.h"

#include "base/log.h"

namespace corvid {

void I8259Pair::Chip::reset() {
    // ELCR belongs to the chipset, not the 8259: ICW1 and reset keep it.
    const uint8_t keep_elcr = elcr, keep_mask = elcr_mask;
    *this = Chip{};
    elcr = keep_elcr;
    elcr_mask = keep_mask;
}

int I8259Pair::Chip::highest(uint8_t mask) const {
    if (mask == 0) return 8;
    int p = 0;
    while (!(mask & (1u << ((p + priority_add) & 7)))) p++;
    return p;
}

int I8259Pair::Chip::pending(bool is_master) const {
    const int p = highest(irr & ~imr);
    if (p == 8) return -1;
    // In-service IRQs of equal or higher priority block the request. Special mask mode lets
    // masked in-service levels stop blocking; special fully nested mode lets the slave
    // interrupt again while its cascade input is in service.
    uint8_t in_service = isr;
    if (special_mask) in_service &= ~imr;
    if (special_fully_nested && is_master) in_service &= ~(1u << 2);
    const int cur = highest(in_service);
    return p < cur ? (p + priority_add) & 7 : -1;
}

I8259Pair::I8259Pair(std::function<void()> kick) : kick_(std::move(kick)) {
    chips_[0].elcr_mask = 0xf8;  // IRQ0-2 are always edge (PIIX/ICH ELCR)
    chips_[1].elcr_mask = 0xde;  // IRQ8 and IRQ13 likewise
    reset();
}

void I8259Pair::reset() {
    for (Chip& c : chips_) {
        c.reset();
        c.elcr = 0;
    }
    intr_ = false;
    update();
}

void I8259Pair::set_chip_irq(int chip, int irq, bool level) {
    Chip& c = chips_[chip];
    const uint8_t mask = static_cast<uint8_t>(1u << irq);
    if (c.elcr & mask) {
        // Level triggered: IRR follows the line.
        if (level) {
            c.irr |= mask;
            c.last_level |= mask;
        } else {
            c.irr &= ~mask;
            c.last_level &= ~mask;
        }
        return;
    }
    if (level) {
        if (!(c.last_level & mask)) c.irr |= mask;  // rising edge latches the request
        c.last_level |= mask;
    } else {
        c.last_level &= ~mask;
    }
}

void I8259Pair::set_irq(int irq, bool level) {
    if (irq < 0 || irq > 15) {
        log::logf(log::kGuestErrors, "i8259: IRQ {} out of range", irq);
        return;
    }
    const uint16_t bit = static_cast<uint16_t>(1u << irq);
    const bool changed = ((line_levels_ & bit) != 0) != level;
    line_levels_ = level ? (line_levels_ | bit) : (line_levels_ & ~bit);
    // As QEMU's qtest does, an intercepted line is reported and still delivered.
    if (observer_ && changed) observer_->irq_changed(irq, level);
    set_chip_irq(irq >> 3, irq & 7, level);
    update();
}

void I8259Pair::set_irq_observer(IrqObserver* observer) { observer_ = observer; }

void I8259Pair::update() {
    // The slave's INT output drives the master's IRQ2 input.
    const bool slave_out = chips_[1].pending(false) >= 0;
    set_chip_irq(0, 2, slave_out);
    const bool intr = chips_[0].pending(true) >= 0;
    const bool rose = intr && !intr_;
    const bool changed = intr != intr_;
    intr_ = intr;
    if (changed && output_.observer) output_.observer->irq_changed(0, intr);
    if (rose && kick_) kick_();
}

bool I8259Pair::intr_pending() const { return intr_; }

void I8259Pair::intack(int chip, int irq) {
    Chip& c = chips_[chip];
    const uint8_t mask = static_cast<uint8_t>(1u << irq);
    if (c.auto_eoi) {
        if (c.rotate_on_auto_eoi) c.priority_add = (irq + 1) & 7;
    } else {
        c.isr |= mask;
    }
    // Edge requests are consumed by the acknowledge; level requests stay while the line is high.
    if (!(c.elcr & mask)) c.irr &= ~mask;
}

int I8259Pair::acknowledge() {
    int vector;
    const int irq = chips_[0].pending(true);
    if (irq < 0) {
        vector = chips_[0].irq_base + 7;  // spurious IRQ7
    } else {
        intack(0, irq);
        if (irq == 2) {
            const int irq2 = chips_[1].pending(false);
            if (irq2 >= 0) {
                intack(1, irq2);
                vector = chips_[1].irq_base + irq2;
            } else {
                vector = chips_[1].irq_base + 7;  // spurious IRQ15
            }
        } else {
            vector = chips_[0].irq_base + irq;
        }
    }
    log::logf(log::kInt, "i8259: acknowledge irq {} -> vector 0x{:x}", irq, vector);
    update();
    return vector;
}

uint8_t I8259Pair::read_port(int chip, unsigned port) {
    Chip& c = chips_[chip];
    if (port == 1) return c.imr;
    if (c.poll) {
        // Poll command: the read acknowledges the highest request (bit 7 = something pending).
        c.poll = false;
        const int irq = c.pending(chip == 0);
        if (irq < 0) return 0;
        intack(chip, irq);
        if (chip == 0 && irq == 2) {
            const int irq2 = chips_[1].pending(false);
            if (irq2 >= 0) intack(1, irq2);
        }
        update();
        return static_cast<uint8_t>(0x80 | irq);
    }
    return c.read_isr ? c.isr : c.irr;
}

void I8259Pair::write_port(int chip, unsigned port, uint8_t v) {
    Chip& c = chips_[chip];
    if (port == 0) {
        if (v & 0x10) {
            // ICW1: start of the initialisation sequence.
            c.reset();
            c.init_state = 1;
            c.init4 = v & 0x01;
            c.single = v & 0x02;
            if (v & 0x08) log::logf(log::kUnimp, "i8259: level-triggered mode via ICW1 is not supported (use ELCR)");
            if (v & 0x04) log::logf(log::kGuestErrors, "i8259: ICW1 call address interval 4 ignored");
        } else if (v & 0x08) {
            // OCW3.
            if (v & 0x04) c.poll = true;
            if (v & 0x02) c.read_isr = v & 0x01;
            if (v & 0x40) c.special_mask = (v >> 5) & 1;
        } else {
            // OCW2.
            const int cmd = v >> 5;
            switch (cmd) {
                case 0:  // rotate in auto-EOI mode: clear
                case 4:  // set
                    c.rotate_on_auto_eoi = cmd == 4;
                    break;
                case 1:  // non-specific EOI
                case 5: {  // rotate on non-specific EOI
                    const int p = c.highest(c.isr);
                    if (p != 8) {
                        const int irq = (p + c.priority_add) & 7;
                        c.isr &= ~(1u << irq);
                        if (cmd == 5) c.priority_add = (irq + 1) & 7;
                    }
                    break;
                }
                case 3:  // specific EOI
                    c.isr &= ~(1u << (v & 7));
                    break;
                case 6:  // set priority: the given IRQ becomes the lowest
                    c.priority_add = (v + 1) & 7;
                    break;
                case 7:  // rotate on specific EOI
                    c.isr &= ~(1u << (v & 7));
                    c.priority_add = ((v & 7) + 1) & 7;
                    break;
                default:  // 2: no operation
                    break;
            }
        }
        update();
        return;
    }
    switch (c.init_state) {
        case 0:  // OCW1
            c.imr = v;
            break;
        case 1:  // ICW2
            c.irq_base = v & 0xf8;
            c.init_state = c.single ? (c.init4 ? 3 : 0) : 2;
            break;
        case 2:  // ICW3: the cascade wiring is fixed on a PC
            c.init_state = c.init4 ? 3 : 0;
            break;
        case 3:  // ICW4
            if (!(v & 0x01)) log::logf(log::kGuestErrors, "i8259: ICW4 without 8086 mode ignored");
            c.special_fully_nested = (v >> 4) & 1;
            c.auto_eoi = (v >> 1) & 1;
            c.init_state = 0;
            break;
    }
    update();
}

uint64_t I8259Pair::ChipIo::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset > 1) {
        log::logf(log::kGuestErrors, "i8259: bad read of size {} at offset {}", size, offset);
        return 0xff;
    }
    return pair->read_port(index, static_cast<unsigned>(offset));
}

void I8259Pair::ChipIo::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset > 1) {
        log::logf(log::kGuestErrors, "i8259: bad write of size {} at offset {}", size, offset);
        return;
    }
    pair->write_port(index, static_cast<unsigned>(offset), static_cast<uint8_t>(value));
}

uint64_t I8259Pair::ElcrIo::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset > 1) {
        log::logf(log::kGuestErrors, "i8259: bad ELCR read of size {} at offset {}", size, offset);
        return 0xff;
    }
    return pair->chips_[offset].elcr;
}

void I8259Pair::ElcrIo::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset > 1) {
        log::logf(log::kGuestErrors, "i8259: bad ELCR write of size {} at offset {}", size, offset);
        return;
    }
    Chip& c = pair->chips_[offset];
    c.elcr = static_cast<uint8_t>(value) & c.elcr_mask;
    pair->update();
}

}  // namespace corvid
