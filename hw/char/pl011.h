// The ARM PrimeCell PL011 UART (as on QEMU's virt board): registers, RX FIFO, interrupts.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "base/char_backend.h"
#include "hw/memory_map.h"

namespace corvid {

class Pl011 : public MmioOps {
public:
    static constexpr uint64_t kMmioSize = 0x1000;
    // Registers are 32-bit; byte and halfword accesses are common in drivers (strb to DR).
    static constexpr uint8_t kValidSizes = kAccess1 | kAccess2 | kAccess4;
    static constexpr unsigned kFifoDepth = 16;

    // Register offsets.
    enum : uint64_t {
        kDR = 0x000,
        kRSR = 0x004,  // read: RSR, write: ECR
        kFR = 0x018,
        kILPR = 0x020,
        kIBRD = 0x024,
        kFBRD = 0x028,
        kLCR_H = 0x02c,
        kCR = 0x030,
        kIFLS = 0x034,
        kIMSC = 0x038,
        kRIS = 0x03c,
        kMIS = 0x040,
        kICR = 0x044,
        kDMACR = 0x048,
        kPeriphID0 = 0xfe0,  // PeriphID0-3, then PCellID0-3 up to 0xffc
    };

    // Flag register bits.
    enum : uint32_t {
        kFrBusy = 1u << 3,
        kFrRxfe = 1u << 4,
        kFrTxff = 1u << 5,
        kFrRxff = 1u << 6,
        kFrTxfe = 1u << 7,
    };

    // Interrupt bits (IMSC/RIS/MIS/ICR).
    enum : uint32_t {
        kIntRx = 1u << 4,
        kIntTx = 1u << 5,
        kIntRt = 1u << 6,
        kIntFe = 1u << 7,
        kIntPe = 1u << 8,
        kIntBe = 1u << 9,
        kIntOe = 1u << 10,
        kIntAll = 0x7ff,
    };

    enum : uint32_t { kLcrFen = 1u << 4 };
    enum : uint32_t { kCrUarten = 1u << 0, kCrLbe = 1u << 7, kCrTxe = 1u << 8, kCrRxe = 1u << 9 };

    // `chr` may be null (output discarded, no input). `irq` receives level changes of the
    // combined interrupt line (UARTINTR).
    Pl011(CharBackend* chr, std::function<void(bool)> irq);

    void reset();

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

    // Input from the character backend (also what set_receiver wires up).
    size_t can_receive() const;
    void receive(const uint8_t* data, size_t size);

    bool irq_level() const { return irq_level_; }
    unsigned rx_count() const { return rx_count_; }

private:
    unsigned fifo_depth() const { return (lcr_ & kLcrFen) ? kFifoDepth : 1; }
    unsigned rx_trigger() const;
    void push_rx(uint32_t entry);
    uint32_t pop_rx();
    void flush_rx();
    void transmit(uint8_t byte);
    void update_rx_level();
    void update_irq();

    CharBackend* chr_;
    std::function<void(bool)> irq_;
    bool irq_level_ = false;

    std::array<uint32_t, kFifoDepth> rx_fifo_{};  // data byte plus error bits 8-11
    unsigned rx_pos_ = 0;
    unsigned rx_count_ = 0;

    uint32_t rsr_ = 0;
    uint32_t ilpr_ = 0;
    uint32_t ibrd_ = 0;
    uint32_t fbrd_ = 0;
    uint32_t lcr_ = 0;
    uint32_t cr_ = 0;
    uint32_t ifls_ = 0;
    uint32_t imsc_ = 0;
    uint32_t ris_ = 0;
    uint32_t dmacr_ = 0;
};

}  // namespace corvid
