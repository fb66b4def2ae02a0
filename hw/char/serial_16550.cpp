// 16550A model. Transmission is instantaneous (THR and the TX FIFO are always empty again by
// the time the guest looks), the receiver is modelled in full: FIFO, trigger levels, overrun,
// and the character timeout, which is treated as already expired (no bit timing is modelled).
#include "hw/char/serial_16550.h"

#include "base/log.h"

namespace corvid {

Serial16550::Serial16550(CharBackend* chr, std::function<void(bool)> irq) : chr_(chr), irq_(std::move(irq)) {
    reset();
    if (chr_) {
        chr_->set_receiver(CharBackend::Receiver{
            [this] { return can_receive(); },
            [this](const uint8_t* data, size_t size) { receive(data, size); },
        });
    }
}

void Serial16550::reset() {
    rx_pos_ = 0;
    rx_count_ = 0;
    ier_ = 0;
    fcr_ = 0;
    lcr_ = 0;
    mcr_ = kMcrOut2;  // QEMU's reset value
    lsr_ = kLsrTemt | kLsrThre;
    msr_ = kMsrDcd | kMsrDsr | kMsrCts;
    scr_ = 0;
    divisor_ = 0x0c;  // 9600 baud
    thr_ipending_ = false;
    update_irq();
}

unsigned Serial16550::rx_trigger() const {
    if (!fifo_enabled()) return 1;
    static constexpr unsigned kLevels[4] = {1, 4, 8, 14};
    return kLevels[fcr_ >> 6];
}

size_t Serial16550::can_receive() const {
    // In loopback the receiver is disconnected from the outside world.
    if (mcr_ & kMcrLoop) return 0;
    const unsigned depth = fifo_enabled() ? kFifoDepth : 1;
    return depth - rx_count_;
}

void Serial16550::receive(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; i++) push_rx(data[i]);
}

void Serial16550::push_rx(uint8_t byte) {
    const unsigned depth = fifo_enabled() ? kFifoDepth : 1;
    if (rx_count_ >= depth) {
        // Overrun. Without FIFO the new byte overwrites the unread one in RBR; with FIFO the
        // FIFO keeps its contents and the byte in the shift register is lost.
        lsr_ |= kLsrOe;
        if (!fifo_enabled()) rx_fifo_[rx_pos_] = byte;
        update_irq();
        return;
    }
    rx_fifo_[(rx_pos_ + rx_count_) % kFifoDepth] = byte;
    rx_count_++;
    lsr_ |= kLsrDr;
    update_irq();
}

uint8_t Serial16550::pop_rx() {
    if (rx_count_ == 0) return 0;
    const uint8_t b = rx_fifo_[rx_pos_];
    rx_pos_ = (rx_pos_ + 1) % kFifoDepth;
    rx_count_--;
    if (rx_count_ == 0) lsr_ &= ~kLsrDr;
    update_irq();
    return b;
}

void Serial16550::clear_rx() {
    rx_pos_ = 0;
    rx_count_ = 0;
    lsr_ &= ~(kLsrDr | kLsrRxErr);
    update_irq();
}

void Serial16550::transmit(uint8_t byte) {
    if (mcr_ & kMcrLoop) {
        push_rx(byte);
    } else if (chr_) {
        chr_->write(&byte, 1);
    }
    // THR (and the TX FIFO) drained at once: THRE/TEMT stay set and the THRE interrupt fires.
    lsr_ |= kLsrThre | kLsrTemt;
    thr_ipending_ = true;
    update_irq();
}

void Serial16550::update_msr() {
    // Loopback wires the modem outputs back to the inputs: RTS->CTS, DTR->DSR, OUT1->RI,
    // OUT2->DCD. Outside loopback the lines read as a connected, ready peer. The lines never
    // change on their own, and, as in QEMU, looping back does not report delta bits or raise
    // modem status interrupts (Linux' 8250 probe only looks at the line bits).
    if (mcr_ & kMcrLoop) {
        msr_ = static_cast<uint8_t>(((mcr_ & kMcrRts) ? kMsrCts : 0) | ((mcr_ & kMcrDtr) ? kMsrDsr : 0) |
                                    ((mcr_ & kMcrOut1) ? kMsrRi : 0) | ((mcr_ & kMcrOut2) ? kMsrDcd : 0));
    } else {
        msr_ = kMsrDcd | kMsrDsr | kMsrCts;
    }
}

uint8_t Serial16550::compute_iir() const {
    // Highest priority first: line status, received data (or its timeout), THR empty, modem.
    if ((ier_ & kIerRls) && (lsr_ & (kLsrOe | kLsrPe | kLsrFe | kLsrBi))) return kIirRls;
    if (ier_ & kIerRda) {
        if (rx_count_ >= rx_trigger()) return kIirRda;
        if (fifo_enabled() && rx_count_ > 0) return kIirCti;
    }
    if ((ier_ & kIerThre) && thr_ipending_) return kIirThre;
    if ((ier_ & kIerMs) && (msr_ & 0x0f)) return kIirMs;
    return kIirNoInt;
}

void Serial16550::update_irq() {
    const bool level = compute_iir() != kIirNoInt;
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq_) irq_(level);
    }
}

uint64_t Serial16550::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "serial: bad read of size {} at offset 0x{:x}", size, offset);
        return size == 1 ? 0xff : (size == 2 ? 0xffff : 0xffffffffull);
    }
    switch (offset) {
        case kRBR: {
            if (lcr_ & kLcrDlab) return divisor_ & 0xff;
            const uint8_t b = pop_rx();
            // Room in the FIFO again: take more pending input now, as a UART keeps receiving
            // while the CPU spins in its polling loop.
            if (chr_) chr_->poll_input();
            return b;
        }
        case kIER:
            if (lcr_ & kLcrDlab) return divisor_ >> 8;
            return ier_;
        case kIIR: {
            const uint8_t iir = compute_iir();
            // Reading IIR while it reports THRE acknowledges that interrupt.
            if (iir == kIirThre) {
                thr_ipending_ = false;
                update_irq();
            }
            return iir | (fifo_enabled() ? kIirFifo : 0);
        }
        case kLCR: return lcr_;
        case kMCR: return mcr_;
        case kLSR: {
            uint8_t v = lsr_;
            if (fifo_enabled() && (lsr_ & (kLsrPe | kLsrFe | kLsrBi))) v |= kLsrRxErr;
            lsr_ &= ~(kLsrOe | kLsrPe | kLsrFe | kLsrBi | kLsrRxErr);
            update_irq();
            return v;
        }
        case kMSR: {
            const uint8_t v = msr_;
            msr_ &= 0xf0;
            update_irq();
            return v;
        }
        case kSCR: return scr_;
    }
    return 0xff;
}

void Serial16550::write(uint64_t offset, uint64_t value64, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "serial: bad write of size {} at offset 0x{:x}", size, offset);
        return;
    }
    const uint8_t v = static_cast<uint8_t>(value64);
    switch (offset) {
        case kTHR:
            if (lcr_ & kLcrDlab) {
                divisor_ = (divisor_ & 0xff00) | v;
                return;
            }
            // Writing THR clears THRE (and its interrupt) until the byte moves on, which on
            // this UART is at once: the interrupt line drops and rises again, so an edge-
            // triggered PIC sees a new request per byte, as with real hardware and QEMU.
            thr_ipending_ = false;
            lsr_ &= ~(kLsrThre | kLsrTemt);
            update_irq();
            transmit(v);
            return;
        case kIER: {
            if (lcr_ & kLcrDlab) {
                divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (v << 8));
                return;
            }
            if (v & 0xf0) log::logf(log::kGuestErrors, "serial: reserved IER bits 0x{:x} ignored", v & 0xf0);
            const uint8_t old = ier_;
            ier_ = v & 0x0f;
            // Enabling the THRE interrupt while THR is empty raises it at once.
            if ((ier_ & kIerThre) && !(old & kIerThre) && (lsr_ & kLsrThre)) thr_ipending_ = true;
            if (!(ier_ & kIerThre)) thr_ipending_ = false;
            update_irq();
            return;
        }
        case kFCR: {
            // Toggling the FIFO enable empties both FIFOs.
            if ((v ^ fcr_) & kFcrEnable) {
                clear_rx();
            } else if (v & kFcrClearRx) {
                clear_rx();
            }
            // The TX FIFO is always empty: its clear bit has nothing to do.
            fcr_ = v & 0xc9;
            update_irq();
            return;
        }
        case kLCR: lcr_ = v; return;
        case kMCR:
            if (v & 0xe0) log::logf(log::kGuestErrors, "serial: reserved MCR bits 0x{:x} ignored", v & 0xe0);
            mcr_ = v & 0x1f;
            update_msr();
            update_irq();
            return;
        case kLSR:
            log::logf(log::kGuestErrors, "serial: write 0x{:x} to read-only LSR ignored", v);
            return;
        case kMSR:
            log::logf(log::kGuestErrors, "serial: write 0x{:x} to read-only MSR ignored", v);
            return;
        case kSCR: scr_ = v; return;
    }
}

}  // namespace corvid
