// The NS16550A UART (PC COM ports): register file, 16-byte FIFOs, interrupt identification,
// loopback; output to a CharBackend, input through its receiver.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "base/char_backend.h"
#include "hw/memory_map.h"

namespace corvid {

class Serial16550 : public MmioOps {
public:
    static constexpr uint64_t kIoSize = 8;
    static constexpr unsigned kFifoDepth = 16;

    // Register offsets (DLAB selects the divisor latch at 0 and 1).
    enum : uint64_t { kRBR = 0, kTHR = 0, kDLL = 0, kIER = 1, kDLM = 1, kIIR = 2, kFCR = 2, kLCR = 3, kMCR = 4, kLSR = 5, kMSR = 6, kSCR = 7 };

    enum : uint8_t {
        kIerRda = 0x01, kIerThre = 0x02, kIerRls = 0x04, kIerMs = 0x08,
        kIirNoInt = 0x01, kIirMs = 0x00, kIirThre = 0x02, kIirRda = 0x04, kIirRls = 0x06, kIirCti = 0x0c, kIirFifo = 0xc0,
        kFcrEnable = 0x01, kFcrClearRx = 0x02, kFcrClearTx = 0x04,
        kLcrDlab = 0x80, kLcrBreak = 0x40,
        kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08, kMcrLoop = 0x10,
        kLsrDr = 0x01, kLsrOe = 0x02, kLsrPe = 0x04, kLsrFe = 0x08, kLsrBi = 0x10, kLsrThre = 0x20, kLsrTemt = 0x40, kLsrRxErr = 0x80,
        kMsrDcts = 0x01, kMsrDdsr = 0x02, kMsrTeri = 0x04, kMsrDdcd = 0x08, kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80,
    };

    // `chr` may be null (output discarded, no input). `irq` receives level changes of the
    // interrupt output (not gated by MCR.OUT2, as in QEMU).
    Serial16550(CharBackend* chr, std::function<void(bool)> irq);

    void reset();

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

    // Input from the character backend (what set_receiver wires up).
    size_t can_receive() const;
    void receive(const uint8_t* data, size_t size);

    bool irq_level() const { return irq_level_; }
    unsigned rx_count() const { return rx_count_; }

private:
    bool fifo_enabled() const { return (fcr_ & kFcrEnable) != 0; }
    unsigned rx_trigger() const;
    void push_rx(uint8_t byte);
    uint8_t pop_rx();
    void clear_rx();
    void transmit(uint8_t byte);
    void update_msr();
    uint8_t compute_iir() const;
    void update_irq();

    CharBackend* chr_;
    std::function<void(bool)> irq_;
    bool irq_level_ = false;

    std::array<uint8_t, kFifoDepth> rx_fifo_{};
    unsigned rx_pos_ = 0;
    unsigned rx_count_ = 0;

    uint8_t ier_ = 0;
    uint8_t fcr_ = 0;
    uint8_t lcr_ = 0;
    uint8_t mcr_ = 0;
    uint8_t lsr_ = 0;
    uint8_t msr_ = 0;
    uint8_t scr_ = 0;
    uint16_t divisor_ = 0;
    bool thr_ipending_ = false;  // THRE interrupt armed until IIR is read or THR written
};

}  // namespace corvid
