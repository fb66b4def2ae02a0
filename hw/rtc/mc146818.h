// The MC146818 RTC and 128-byte CMOS RAM of the PC (ports 0x70/0x71, IRQ8): time from the
// host's clock in BCD or binary, 12/24 h, registers A-D, periodic interrupt.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>

#include "hw/clock.h"
#include "hw/memory_map.h"

namespace corvid {

class Mc146818 : public MmioOps {
public:
    static constexpr uint64_t kIoSize = 2;
    static constexpr unsigned kCmosSize = 128;

    enum : uint8_t {
        kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03, kHours = 0x04,
        kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07, kMonth = 0x08, kYear = 0x09,
        kRegA = 0x0a, kRegB = 0x0b, kRegC = 0x0c, kRegD = 0x0d, kCentury = 0x32,
    };
    enum : uint8_t { kAUip = 0x80, kBSet = 0x80, kBPie = 0x40, kBAie = 0x20, kBUie = 0x10, kBDm = 0x04, kB24h = 0x02 };
    enum : uint8_t { kCIrqf = 0x80, kCPf = 0x40, kCAf = 0x20, kCUf = 0x10 };

    // Returns the host's wall-clock time in ns since the epoch (tests substitute a fixed one).
    using WallClock = std::function<int64_t()>;

    // `clock` drives the periodic interrupt; `irq8` gets the IRQ line level.
    Mc146818(VirtualClock& clock, std::function<void(bool)> irq8, WallClock wall = {});

    // Resets the registers (not the CMOS RAM contents or the time, which survive a reset).
    void reset();

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

    // Board-filled CMOS bytes (memory sizes, equipment...).
    void set_cmos(uint8_t index, uint8_t value) { cmos_[index & 0x7f] = value; }
    uint8_t cmos(uint8_t index) const { return cmos_[index & 0x7f]; }
    bool nmi_disabled() const { return nmi_disabled_; }

private:
    int64_t wall_ns() const;
    // The RTC's current time, seconds since the epoch (UTC).
    int64_t rtc_seconds() const;
    uint8_t encode(int value) const;  // binary or BCD per register B
    int decode(uint8_t value) const;
    void store_time(int64_t seconds);  // fills registers 0x00-0x09 and the century
    int64_t load_time() const;         // the inverse, from the registers
    uint8_t read_reg(uint8_t index);
    void write_reg(uint8_t index, uint8_t value);
    void update_periodic();
    void update_irq();

    VirtualClock& clock_;
    std::function<void(bool)> irq8_;
    WallClock wall_;
    std::array<uint8_t, kCmosSize> cmos_{};
    uint8_t index_ = 0;
    bool nmi_disabled_ = false;
    int64_t offset_s_ = 0;  // RTC time minus host time
    bool irq_level_ = false;
    VirtualClock::TimerId periodic_ = -1;
    int64_t periodic_next_ = -1;
};

}  // namespace corvid
