// Small PC ports: system control port A (0x92: fast reset, A20), the keyboard controller's
// reset pulse (0x64, command 0xfe), the POST diagnostic port 0x80, and isa-debug-exit.
#pragma once

#include <cstdint>

#include "hw/memory_map.h"

namespace corvid {

class RunControl;

// Port 0x92: bit 0 pulses a reset, bit 1 is the A20 gate (A20 is always enabled in Corvid;
// the bit reads back as written).
class Port92 : public MmioOps {
public:
    explicit Port92(RunControl& rc) : rc_(rc) {}
    void reset() { value_ = 0x02; }
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

private:
    RunControl& rc_;
    uint8_t value_ = 0x02;
};

// The i8042's two ports (0x60 data, 0x64 command/status) reduced to what guests use to reset
// the machine: command 0xfe pulses the reset line. Status reads "input buffer empty, no data".
class KbdController : public MmioOps {
public:
    static constexpr uint64_t kIoSize = 5;  // 0x60..0x64
    explicit KbdController(RunControl& rc) : rc_(rc) {}
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

private:
    RunControl& rc_;
};

// Port 0x80: POST codes and the traditional I/O delay. Writes are ignored, reads give 0xff.
class Port80 : public MmioOps {
public:
    uint64_t read(uint64_t, unsigned size) override { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }
    void write(uint64_t, uint64_t, unsigned) override {}
};

// isa-debug-exit: a write of v ends the run with exit status (v << 1) | 1, as QEMU's does.
class IsaDebugExit : public MmioOps {
public:
    static constexpr uint32_t kDefaultIobase = 0x501;
    static constexpr uint32_t kDefaultIosize = 0x02;

    IsaDebugExit(RunControl& rc, uint32_t iobase, uint32_t iosize) : rc_(rc), iobase_(iobase), iosize_(iosize) {}
    static int exit_status(uint64_t value) { return static_cast<int>((value << 1) | 1); }

    uint32_t iobase() const { return iobase_; }
    uint32_t iosize() const { return iosize_; }
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

private:
    RunControl& rc_;
    uint32_t iobase_, iosize_;
};

}  // namespace corvid
