// MC146818 model. The time is the host's UTC time plus an offset the guest changes by
// writing the clock registers; while register B's SET bit is on the registers are frozen
// and the new time takes effect when SET is cleared, as on the real part.
#include "hw/rtc/mc146818.h"

#include <chrono>

#include "base/log.h"

namespace corvid {

namespace {
constexpr int64_t kNsPerSec = 1'000'000'000;
// UIP is set for the 244 us before each update cycle.
constexpr int64_t kUipWindowNs = 244'000;
}  // namespace

Mc146818::Mc146818(VirtualClock& clock, std::function<void(bool)> irq8, WallClock wall)
    : clock_(clock), irq8_(std::move(irq8)), wall_(std::move(wall)) {
    periodic_ = clock_.add_timer([this] {
        cmos_[kRegC] |= kCPf;
        update_irq();
        update_periodic();
    });
    cmos_[kRegA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
    cmos_[kRegB] = kB24h;
    cmos_[kRegD] = 0x80;  // valid RAM and time
    reset();
}

void Mc146818::reset() {
    cmos_[kRegB] &= ~(kBPie | kBAie | kBUie);
    cmos_[kRegC] = 0;
    index_ = 0;
    nmi_disabled_ = false;
    update_periodic();
    update_irq();
}

int64_t Mc146818::wall_ns() const {
    if (wall_) return wall_();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t Mc146818::rtc_seconds() const { return wall_ns() / kNsPerSec + offset_s_; }

uint8_t Mc146818::encode(int value) const {
    if (cmos_[kRegB] & kBDm) return static_cast<uint8_t>(value);
    return static_cast<uint8_t>(((value / 10) << 4) | (value % 10));
}

int Mc146818::decode(uint8_t value) const {
    if (cmos_[kRegB] & kBDm) return value;
    return ((value >> 4) & 0xf) * 10 + (value & 0xf);
}

void Mc146818::store_time(int64_t seconds) {
    const time_t t = static_cast<time_t>(seconds);
    tm tmv{};
    gmtime_r(&t, &tmv);
    cmos_[kSeconds] = encode(tmv.tm_sec);
    cmos_[kMinutes] = encode(tmv.tm_min);
    if (cmos_[kRegB] & kB24h) {
        cmos_[kHours] = encode(tmv.tm_hour);
    } else {
        const int h12 = tmv.tm_hour % 12 == 0 ? 12 : tmv.tm_hour % 12;
        cmos_[kHours] = static_cast<uint8_t>(encode(h12) | (tmv.tm_hour >= 12 ? 0x80 : 0));
    }
    cmos_[kDayOfWeek] = encode(tmv.tm_wday + 1);
    cmos_[kDayOfMonth] = encode(tmv.tm_mday);
    cmos_[kMonth] = encode(tmv.tm_mon + 1);
    const int year = tmv.tm_year + 1900;
    cmos_[kYear] = encode(year % 100);
    cmos_[kCentury] = encode(year / 100);
}

int64_t Mc146818::load_time() const {
    tm tmv{};
    tmv.tm_sec = decode(cmos_[kSeconds]);
    tmv.tm_min = decode(cmos_[kMinutes]);
    int hour = decode(cmos_[kHours] & 0x7f);
    if (!(cmos_[kRegB] & kB24h)) {
        hour %= 12;
        if (cmos_[kHours] & 0x80) hour += 12;
    }
    tmv.tm_hour = hour;
    tmv.tm_mday = decode(cmos_[kDayOfMonth]);
    tmv.tm_mon = decode(cmos_[kMonth]) - 1;
    tmv.tm_year = decode(cmos_[kCentury]) * 100 + decode(cmos_[kYear]) - 1900;
    // timegm normalises out-of-range fields, so garbage written by a guest still gives a time.
    return static_cast<int64_t>(timegm(&tmv));
}

void Mc146818::update_periodic() {
    const unsigned rate = cmos_[kRegA] & 0x0f;
    if (!(cmos_[kRegB] & kBPie) || rate == 0) {
        clock_.cancel(periodic_);
        periodic_next_ = -1;
        return;
    }
    // Rates 1 and 2 behave like 8 and 9 on a 32.768 kHz time base; otherwise 2^(rate-1) ticks.
    const unsigned shift = rate <= 2 ? rate + 6 : rate - 1;
    const int64_t period = ((int64_t{1} << shift) * kNsPerSec) / 32768;
    const int64_t now = clock_.now_ns();
    periodic_next_ = (periodic_next_ < 0 || periodic_next_ + period < now) ? now + period : periodic_next_ + period;
    clock_.arm(periodic_, periodic_next_);
}

void Mc146818::update_irq() {
    const uint8_t c = cmos_[kRegC] & 0x70;
    const uint8_t enabled = cmos_[kRegB] & 0x70;  // PIE/AIE/UIE line up with PF/AF/UF
    if (c & enabled) {
        cmos_[kRegC] |= kCIrqf;
    } else {
        cmos_[kRegC] &= ~kCIrqf;
    }
    const bool level = (cmos_[kRegC] & kCIrqf) != 0;
    if (level != irq_level_) {
        irq_level_ = level;
        if (irq8_) irq8_(level);
    }
}

uint8_t Mc146818::read_reg(uint8_t index) {
    if (index <= kYear || index == kCentury) {
        if (index == kSecondsAlarm || index == kMinutesAlarm || index == kHoursAlarm) return cmos_[index];
        if (!(cmos_[kRegB] & kBSet)) store_time(rtc_seconds());
        return cmos_[index];
    }
    switch (index) {
        case kRegA: {
            uint8_t a = cmos_[kRegA] & 0x7f;
            const bool running = ((a >> 4) & 7) == 2 && !(cmos_[kRegB] & kBSet);
            if (running && (wall_ns() % kNsPerSec) >= kNsPerSec - kUipWindowNs) a |= kAUip;
            return a;
        }
        case kRegC: {
            const uint8_t c = cmos_[kRegC];
            cmos_[kRegC] = 0;
            update_irq();
            return c;
        }
        default: return cmos_[index];
    }
}

void Mc146818::write_reg(uint8_t index, uint8_t v) {
    if (index <= kYear || index == kCentury) {
        if (index == kSecondsAlarm || index == kMinutesAlarm || index == kHoursAlarm) {
            cmos_[index] = v;
            if (cmos_[kRegB] & kBAie) log::logf(log::kUnimp, "mc146818: alarm interrupts are not implemented");
            return;
        }
        const bool set = cmos_[kRegB] & kBSet;
        if (!set) store_time(rtc_seconds());  // the other fields keep counting from now
        cmos_[index] = v;
        if (!set) offset_s_ = load_time() - wall_ns() / kNsPerSec;
        return;
    }
    switch (index) {
        case kRegA:
            cmos_[kRegA] = (cmos_[kRegA] & kAUip) | (v & 0x7f);
            update_periodic();
            return;
        case kRegB: {
            const bool was_set = cmos_[kRegB] & kBSet;
            uint8_t b = v;
            if (b & kBSet) {
                b &= ~kBUie;  // setting SET clears UIE
                if (!was_set) store_time(rtc_seconds());  // freeze the registers
            }
            if ((b ^ cmos_[kRegB]) & (kBDm | kB24h)) {
                // Switching format: the registers are re-encoded from the current time.
                cmos_[kRegB] = b;
                if (!(b & kBSet)) store_time(rtc_seconds());
            }
            cmos_[kRegB] = b;
            if (was_set && !(b & kBSet)) offset_s_ = load_time() - wall_ns() / kNsPerSec;
            if (b & kBUie) log::logf(log::kUnimp, "mc146818: update-ended interrupts are not implemented");
            update_periodic();
            update_irq();
            return;
        }
        case kRegC:
        case kRegD:
            log::logf(log::kGuestErrors, "mc146818: write 0x{:x} to read-only register 0x{:x} ignored", v, index);
            return;
        default: cmos_[index] = v; return;
    }
}

uint64_t Mc146818::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "mc146818: bad read of size {} at offset {}", size, offset);
        return 0xff;
    }
    if (offset == 0) return 0xff;  // the index register is write-only
    return read_reg(index_);
}

void Mc146818::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "mc146818: bad write of size {} at offset {}", size, offset);
        return;
    }
    const uint8_t v = static_cast<uint8_t>(value);
    if (offset == 0) {
        index_ = v & 0x7f;
        nmi_disabled_ = v & 0x80;
        return;
    }
    write_reg(index_, v);
}

}  // namespace corvid
