// The i8254 programmable interval timer (ports 0x40-0x43) and the port 0x61 speaker/gate
// bits; counter 0 drives IRQ0. Time comes from the board's VirtualClock.
#pragma once

#include <cstdint>
#include <functional>

#include "hw/clock.h"
#include "hw/memory_map.h"

namespace corvid {

class I8254 : public MmioOps {
public:
    static constexpr int64_t kFrequencyHz = 1193182;
    static constexpr uint64_t kIoSize = 4;

    // `irq0` receives the output level of counter 0. The clock must outlive the timer.
    I8254(VirtualClock& clock, std::function<void(bool)> irq0);

    void reset();

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

    // The gate input of a counter (counters 0 and 1 are tied high on a PC; port 0x61 bit 0
    // drives counter 2).
    void set_gate(int counter, bool gate);
    bool gate(int counter) const { return counters_[counter].gate; }
    // Output level of a counter now.
    bool output(int counter) const;
    // Current count as a read would return it (without touching latches).
    uint16_t count(int counter) const;

    // Port 0x61 (system control port B): gate 2, speaker enable, refresh toggle, OUT2.
    MmioOps* port61_ops() { return &port61_; }

private:
    struct Counter {
        uint32_t count = 0x10000;  // the reload value; 0 written means 65536
        int64_t load_time = 0;     // clock time when counting (re)started
        uint8_t mode = 0, rw_mode = 0, bcd = 0;
        uint8_t read_state = 0, write_state = 0, write_latch = 0;
        bool count_latched = false;
        uint16_t latched_count = 0;
        uint8_t latch_read_state = 0;  // which byte of the latch comes next (rw mode 3)
        bool status_latched = false;
        uint8_t status = 0;
        bool gate = true;
        bool null_count = true;    // a count was written but not yet loaded
        bool armed = false;        // mode 0/1/4/5: counting towards the terminal event
        VirtualClock::TimerId timer = -1;
        int64_t next_transition = -1;
    };

    struct Port61 : MmioOps {
        I8254* pit;
        explicit Port61(I8254* p) : pit(p) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, uint64_t value, unsigned size) override;
    };

    int64_t ticks_since_load(const Counter& c, int64_t now) const;
    uint16_t count_at(const Counter& c, int64_t now) const;
    bool output_at(const Counter& c, int64_t now) const;
    bool irq_level_at(const Counter& c, int64_t now) const;
    // Absolute clock time of the next change of the IRQ level after `now`, -1 if none.
    int64_t next_transition_time(const Counter& c, int64_t now) const;
    void load_count(int index, uint32_t value);
    void latch_count(int index);
    void schedule(int index, int64_t now);
    void on_timer(int index);

    VirtualClock& clock_;
    std::function<void(bool)> irq0_;
    Counter counters_[3];
    bool speaker_enable_ = false;
    Port61 port61_{this};
};

}  // namespace corvid
