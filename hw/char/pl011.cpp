// PL011 UART model. Transmission is instantaneous (TX FIFO always empty), so FR.TXFE is set
// and TXFF/BUSY clear; the RX FIFO is modelled in full, including trigger levels.
#include "hw/char/pl011.h"

#include "base/log.h"

namespace corvid {
namespace {

// PrimeCell identification, the "arm" variant QEMU's pl011 reports (0xfe0..0xffc).
constexpr uint8_t kIds[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

constexpr uint32_t kDrOe = 1u << 11;
constexpr uint32_t kRsrOe = 1u << 3;

}  // namespace

Pl011::Pl011(CharBackend* chr, std::function<void(bool)> irq) : chr_(chr), irq_(std::move(irq)) {
    reset();
    if (chr_) {
        chr_->set_receiver(CharBackend::Receiver{
            [this] { return can_receive(); },
            [this](const uint8_t* data, size_t size) { receive(data, size); },
        });
    }
}

void Pl011::reset() {
    rx_pos_ = 0;
    rx_count_ = 0;
    rsr_ = 0;
    ilpr_ = 0;
    ibrd_ = 0;
    fbrd_ = 0;
    lcr_ = 0;
    cr_ = kCrRxe | kCrTxe;  // 0x300, the documented reset value
    ifls_ = 0x12;           // both trigger levels at 1/2
    imsc_ = 0;
    ris_ = 0;
    dmacr_ = 0;
    update_irq();
}

unsigned Pl011::rx_trigger() const {
    if (!(lcr_ & kLcrFen)) return 1;
    // RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 of the 16-entry FIFO.
    static constexpr unsigned kLevels[5] = {2, 4, 8, 12, 14};
    const unsigned sel = (ifls_ >> 3) & 7;
    return sel < 5 ? kLevels[sel] : 8;
}

size_t Pl011::can_receive() const {
    // A disabled receiver takes nothing; the backend keeps the bytes until it is enabled.
    if (!(cr_ & kCrUarten) || !(cr_ & kCrRxe)) return 0;
    return fifo_depth() - rx_count_;
}

void Pl011::receive(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; i++) push_rx(data[i]);
}

void Pl011::push_rx(uint32_t entry) {
    if (rx_count_ >= fifo_depth()) {
        // Overrun: the byte is lost and the error is flagged on the newest entry.
        rsr_ |= kRsrOe;
        ris_ |= kIntOe;
        if (rx_count_ > 0) rx_fifo_[(rx_pos_ + rx_count_ - 1) % kFifoDepth] |= kDrOe;
        update_irq();
        return;
    }
    rx_fifo_[(rx_pos_ + rx_count_) % kFifoDepth] = entry;
    rx_count_++;
    // No bit timing is modelled, so the receive timeout is considered expired as soon as
    // data sits in the FIFO below the trigger level (a driver then drains it on RTIS).
    ris_ |= kIntRt;
    update_rx_level();
    update_irq();
}

uint32_t Pl011::pop_rx() {
    if (rx_count_ == 0) return 0;
    const uint32_t entry = rx_fifo_[rx_pos_];
    rx_pos_ = (rx_pos_ + 1) % kFifoDepth;
    rx_count_--;
    if (rx_count_ == 0) ris_ &= ~kIntRt;
    update_rx_level();
    update_irq();
    return entry;
}

void Pl011::flush_rx() {
    rx_pos_ = 0;
    rx_count_ = 0;
    ris_ &= ~(kIntRt | kIntRx);
    update_irq();
}

void Pl011::update_rx_level() {
    if (rx_count_ >= rx_trigger()) {
        ris_ |= kIntRx;
    } else {
        ris_ &= ~kIntRx;
    }
}

void Pl011::update_irq() {
    const bool level = (ris_ & imsc_ & kIntAll) != 0;
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq_) irq_(level);
    }
}

void Pl011::transmit(uint8_t byte) {
    if (!(cr_ & kCrUarten) || !(cr_ & kCrTxe)) {
        // Real hardware would hold the byte; like QEMU we send it anyway so early boot
        // output is not lost, but tell whoever debugs the guest.
        log::logf(log::kGuestErrors, "pl011: data written to disabled UART (CR=0x{:x})", cr_);
    }
    if (cr_ & kCrLbe) {
        push_rx(byte);
    } else if (chr_) {
        chr_->write(&byte, 1);
    }
    // The byte left the (empty) TX FIFO at once: the FIFO passed through its trigger level.
    ris_ |= kIntTx;
    update_irq();
}

uint64_t Pl011::read(uint64_t offset, unsigned size) {
    if (size > 4 || (offset & 3) != 0) {
        log::logf(log::kGuestErrors, "pl011: bad read of size {} at offset 0x{:x}", size, offset);
        return 0;
    }
    if (offset >= kPeriphID0 && offset < 0x1000) return kIds[(offset - kPeriphID0) >> 2];
    switch (offset) {
        case kDR: {
            const uint32_t entry = pop_rx();
            rsr_ = (entry >> 8) & 0xf;  // RSR mirrors the errors of the byte just read
            // Room in the FIFO again: take more pending input now, as a UART keeps receiving
            // while the CPU spins in its polling loop.
            if (chr_) chr_->poll_input();
            return entry;
        }
        case kRSR: return rsr_;
        case kFR: {
            // A guest spinning on RXFE never leaves the CPU loop on its own; fetch pending
            // input here so polling drivers see it without depending on the run loop.
            if (rx_count_ == 0 && chr_ && can_receive() > 0) chr_->poll_input();
            uint32_t fr = kFrTxfe;
            if (rx_count_ == 0) fr |= kFrRxfe;
            if (rx_count_ >= fifo_depth()) fr |= kFrRxff;
            return fr;
        }
        case kILPR: return ilpr_;
        case kIBRD: return ibrd_;
        case kFBRD: return fbrd_;
        case kLCR_H: return lcr_;
        case kCR: return cr_;
        case kIFLS: return ifls_;
        case kIMSC: return imsc_;
        case kRIS: return ris_;
        case kMIS: return ris_ & imsc_;
        case kDMACR: return dmacr_;
        case kICR:
            log::logf(log::kGuestErrors, "pl011: read of write-only register ICR");
            return 0;
        default:
            log::logf(log::kGuestErrors, "pl011: read of unknown register at offset 0x{:x}", offset);
            return 0;
    }
}

void Pl011::write(uint64_t offset, uint64_t value64, unsigned size) {
    if (size > 4 || (offset & 3) != 0) {
        log::logf(log::kGuestErrors, "pl011: bad write of size {} at offset 0x{:x}", size, offset);
        return;
    }
    const uint32_t value = static_cast<uint32_t>(value64);
    // Reports bits written outside a register's width; the register keeps the valid bits.
    auto check_width = [&](const char* reg, uint32_t mask) {
        if (value & ~mask) {
            log::logf(log::kGuestErrors, "pl011: value 0x{:x} has reserved bits set for {}", value, reg);
        }
        return value & mask;
    };
    switch (offset) {
        case kDR: transmit(static_cast<uint8_t>(value)); return;
        case kRSR:  // ECR: any write clears the error flags
            rsr_ = 0;
            return;
        case kILPR: ilpr_ = check_width("ILPR", 0xff); return;
        case kIBRD: ibrd_ = check_width("IBRD", 0xffff); return;
        case kFBRD: fbrd_ = check_width("FBRD", 0x3f); return;
        case kLCR_H: {
            const uint32_t v = check_width("LCR_H", 0xff);
            // Enabling or disabling the FIFOs flushes them (as QEMU does).
            if ((v ^ lcr_) & kLcrFen) {
                lcr_ = v;
                flush_rx();
            } else {
                lcr_ = v;
            }
            update_rx_level();
            update_irq();
            return;
        }
        case kCR: cr_ = check_width("CR", 0xff87); return;
        case kIFLS: {
            const uint32_t v = check_width("IFLS", 0x3f);
            if ((v & 7) > 4 || ((v >> 3) & 7) > 4) {
                log::logf(log::kGuestErrors, "pl011: reserved FIFO level select 0x{:x} in IFLS", v);
            }
            ifls_ = v;
            update_rx_level();
            update_irq();
            return;
        }
        case kIMSC:
            imsc_ = check_width("IMSC", kIntAll);
            update_irq();
            return;
        case kICR:
            ris_ &= ~check_width("ICR", kIntAll);
            update_irq();
            return;
        case kDMACR:
            dmacr_ = check_width("DMACR", 0x7);
            if (dmacr_ != 0) log::logf(log::kUnimp, "pl011: DMA is not implemented (DMACR=0x{:x})", dmacr_);
            return;
        case kFR:
        case kRIS:
        case kMIS:
            log::logf(log::kGuestErrors, "pl011: write to read-only register at offset 0x{:x}", offset);
            return;
        default:
            if (offset >= kPeriphID0 && offset < 0x1000) {
                log::logf(log::kGuestErrors, "pl011: write to read-only ID register at offset 0x{:x}", offset);
            } else {
                log::logf(log::kGuestErrors, "pl011: write to unknown register at offset 0x{:x}", offset);
            }
            return;
    }
}

}  // namespace corvid
