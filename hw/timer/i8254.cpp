// i8254 model. Counters are not stepped: a counter's value and output are functions of the
// time since its count was loaded, and only counter 0 (IRQ0) needs a clock timer, armed for
// its next output change. Output levels follow the datasheet (mode 2 goes low for the last
// tick of a period, mode 4/5 strobe low at terminal count); IRQ0 rises once per period.
#include "hw/timer/i8254.h"

#include "base/log.h"

namespace corvid {

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
// When the vCPU has not serviced the timer for this long (stopped VM, host hiccup), the
// counter's IRQ catches up from now instead of replaying every missed period.
constexpr int64_t kMaxCatchUpNs = kNsPerSec / 10;

int64_t ticks_to_ns_ceil(int64_t ticks) {
    const __int128 num = static_cast<__int128>(ticks) * kNsPerSec;
    return static_cast<int64_t>((num + I8254::kFrequencyHz - 1) / I8254::kFrequencyHz);
}

}  // namespace

I8254::I8254(VirtualClock& clock, std::function<void(bool)> irq0) : clock_(clock), irq0_(std::move(irq0)) {
    counters_[0].timer = clock_.add_timer([this] { on_timer(0); });
    reset();
}

void I8254::reset() {
    for (int i = 0; i < 3; i++) {
        Counter& c = counters_[i];
        const VirtualClock::TimerId timer = c.timer;
        c = Counter{};
        c.timer = timer;
        c.gate = i != 2;  // counter 2's gate is port 0x61 bit 0, low after reset
        c.load_time = clock_.now_ns();
        if (c.timer >= 0) clock_.cancel(c.timer);
    }
    speaker_enable_ = false;
    if (irq0_) irq0_(false);
}

int64_t I8254::ticks_since_load(const Counter& c, int64_t now) const {
    const int64_t dt = now > c.load_time ? now - c.load_time : 0;
    return static_cast<int64_t>(static_cast<__int128>(dt) * kFrequencyHz / kNsPerSec);
}

uint16_t I8254::count_at(const Counter& c, int64_t now) const {
    const int64_t d = ticks_since_load(c, now);
    const int64_t n = c.count;
    switch (c.mode) {
        case 2: return static_cast<uint16_t>(n - (d % n));
        case 3: return static_cast<uint16_t>(n - ((2 * d) % n));
        default: return static_cast<uint16_t>((n - d) & 0xffff);  // 0, 1, 4, 5 wrap around
    }
}

bool I8254::output_at(const Counter& c, int64_t now) const {
    if (c.null_count && c.mode == 0) return false;  // mode 0: low from the control word on
    if (c.null_count) return true;
    const int64_t d = ticks_since_load(c, now);
    const int64_t n = c.count;
    switch (c.mode) {
        case 0: return d >= n;
        case 1: return d >= n;  // one-shot: low while counting, triggered at load
        case 2: return n < 2 || (d % n) != n - 1;
        case 3: return (d % n) < ((n + 1) >> 1);
        default: return d != n;  // 4, 5: one-tick low strobe at terminal count
    }
}

int64_t I8254::next_transition_time(const Counter& c, int64_t now) const {
    if (c.null_count) return -1;
    const int64_t d = ticks_since_load(c, now);
    const int64_t n = c.count;
    int64_t next;
    switch (c.mode) {
        case 0:
        case 1:
            if (d >= n) return -1;
            next = n;
            break;
        case 2: {
            // The IRQ line (see irq_level_at): up for the tick at each reload, down after it.
            if (n < 2) return -1;
            const int64_t r = d % n;
            next = (r == 0 && d != 0) ? d + 1 : d - r + n;
            break;
        }
        case 3: {
            const int64_t half = (n + 1) >> 1, r = d % n, base = d - r;
            next = r < half ? base + half : base + n;
            break;
        }
        default:
            if (d < n) {
                next = n;
            } else if (d == n) {
                next = n + 1;
            } else {
                return -1;
            }
            break;
    }
    return c.load_time + ticks_to_ns_ceil(next);
}

bool I8254::irq_level_at(const Counter& c, int64_t now) const {
    // In mode 2 the IRQ line is driven as QEMU does: high for the tick at each reload instead
    // of the datasheet's one-tick low pulse before it. The rising edges (one per period, at
    // the reload) are the same; this way programming mode 2 does not raise an immediate edge.
    if (c.mode == 2) {
        if (c.null_count) return false;
        const int64_t d = ticks_since_load(c, now);
        return c.count >= 2 && d != 0 && d % c.count == 0;
    }
    return output_at(c, now);
}

void I8254::schedule(int index, int64_t now) {
    Counter& c = counters_[index];
    if (c.timer < 0) return;
    if (irq0_) irq0_(irq_level_at(c, now));
    c.next_transition = next_transition_time(c, now);
    if (c.next_transition < 0) {
        clock_.cancel(c.timer);
    } else {
        clock_.arm(c.timer, c.next_transition);
    }
}

void I8254::on_timer(int index) {
    Counter& c = counters_[index];
    const int64_t now = clock_.now_ns();
    // Evaluate at the transition itself, not at the (later) time the callback runs, so that
    // short pulses are not missed.
    int64_t at = c.next_transition >= 0 ? c.next_transition : now;
    if (now - at > kMaxCatchUpNs) at = now;
    schedule(index, at);
}

void I8254::load_count(int index, uint32_t value) {
    Counter& c = counters_[index];
    if (value == 0) value = 0x10000;
    if (c.mode == 2 || c.mode == 3) {
        if (value == 1) log::logf(log::kGuestErrors, "i8254: count 1 is invalid in mode {}", c.mode);
    }
    c.count = value;
    c.load_time = clock_.now_ns();
    c.null_count = false;
    schedule(index, c.load_time);
}

void I8254::latch_count(int index) {
    Counter& c = counters_[index];
    if (c.count_latched) return;  // a second latch before the read is ignored
    c.latched_count = count_at(c, clock_.now_ns());
    c.count_latched = true;
    c.latch_read_state = c.rw_mode;
}

bool I8254::output(int counter) const { return output_at(counters_[counter], clock_.now_ns()); }
uint16_t I8254::count(int counter) const { return count_at(counters_[counter], clock_.now_ns()); }

void I8254::set_gate(int index, bool gate) {
    Counter& c = counters_[index];
    const bool rising = gate && !c.gate;
    c.gate = gate;
    // Modes 1, 2, 3 and 5 (re)start counting on a rising gate; 0 and 4 would pause while the
    // gate is low, which only matters for counter 2 and is not modelled.
    if (rising && c.mode != 0 && c.mode != 4 && !c.null_count) {
        c.load_time = clock_.now_ns();
        schedule(index, c.load_time);
    }
}

uint64_t I8254::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "i8254: bad read of size {} at offset {}", size, offset);
        return 0xff;
    }
    if (offset == 3) {
        log::logf(log::kGuestErrors, "i8254: read of the write-only control word register");
        return 0xff;
    }
    Counter& c = counters_[offset];
    if (c.status_latched) {
        c.status_latched = false;
        return c.status;
    }
    if (c.count_latched) {
        switch (c.latch_read_state) {
            case 2:
                c.count_latched = false;
                return c.latched_count >> 8;
            case 3:
                c.latch_read_state = 4;
                return c.latched_count & 0xff;
            case 4:
                c.count_latched = false;
                return c.latched_count >> 8;
            default:
                c.count_latched = false;
                return c.latched_count & 0xff;
        }
    }
    const uint16_t v = count_at(c, clock_.now_ns());
    switch (c.read_state) {
        case 2: return v >> 8;
        case 3: c.read_state = 4; return v & 0xff;
        case 4: c.read_state = 3; return v >> 8;
        default: return v & 0xff;
    }
}

void I8254::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset >= kIoSize) {
        log::logf(log::kGuestErrors, "i8254: bad write of size {} at offset {}", size, offset);
        return;
    }
    const uint8_t v = static_cast<uint8_t>(value);
    if (offset == 3) {
        const int channel = v >> 6;
        if (channel == 3) {
            // Read-back command: latch count and/or status of the selected counters.
            for (int i = 0; i < 3; i++) {
                if (!(v & (2u << i))) continue;
                Counter& c = counters_[i];
                if (!(v & 0x20)) latch_count(i);
                if (!(v & 0x10) && !c.status_latched) {
                    c.status = static_cast<uint8_t>((output_at(c, clock_.now_ns()) ? 0x80 : 0) | (c.null_count ? 0x40 : 0) |
                                                    (c.rw_mode << 4) | (c.mode << 1) | c.bcd);
                    c.status_latched = true;
                }
            }
            return;
        }
        Counter& c = counters_[channel];
        const uint8_t access = (v >> 4) & 3;
        if (access == 0) {
            latch_count(channel);
            return;
        }
        c.rw_mode = access;
        c.read_state = c.write_state = access;
        c.mode = (v >> 1) & 7;
        if (c.mode > 5) c.mode -= 4;  // 6 and 7 alias modes 2 and 3
        c.bcd = v & 1;
        if (c.bcd) log::logf(log::kUnimp, "i8254: BCD counting is not implemented (counter {} counts in binary)", channel);
        c.null_count = true;
        c.count_latched = false;
        c.status_latched = false;
        if (c.timer >= 0) {
            clock_.cancel(c.timer);
            if (irq0_) irq0_(irq_level_at(c, clock_.now_ns()));
        }
        return;
    }
    Counter& c = counters_[offset];
    switch (c.write_state) {
        case 1: load_count(static_cast<int>(offset), v); break;
        case 2: load_count(static_cast<int>(offset), static_cast<uint32_t>(v) << 8); break;
        case 3:
            c.write_latch = v;
            c.write_state = 4;
            break;
        case 4:
            load_count(static_cast<int>(offset), c.write_latch | (static_cast<uint32_t>(v) << 8));
            c.write_state = 3;
            break;
        default:
            log::logf(log::kGuestErrors, "i8254: count written to counter {} before its control word", offset);
            break;
    }
}

uint64_t I8254::Port61::read(uint64_t offset, unsigned size) {
    if (size != 1 || offset != 0) {
        log::logf(log::kGuestErrors, "port 0x61: bad read of size {}", size);
        return 0xff;
    }
    // Bit 4 toggles with the DRAM refresh request (every 15.085 us), which delay loops poll.
    const int64_t now = pit->clock_.now_ns();
    const unsigned refresh = static_cast<unsigned>((now / 15085) & 1);
    return (pit->counters_[2].gate ? 1 : 0) | (pit->speaker_enable_ ? 2 : 0) | (refresh << 4) |
           (pit->output(2) ? 0x20 : 0);
}

void I8254::Port61::write(uint64_t offset, uint64_t value, unsigned size) {
    if (size != 1 || offset != 0) {
        log::logf(log::kGuestErrors, "port 0x61: bad write of size {}", size);
        return;
    }
    pit->speaker_enable_ = value & 2;
    pit->set_gate(2, value & 1);
}

}  // namespace corvid
