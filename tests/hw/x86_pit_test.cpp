// Tests for the virtual clock (manual mode, timers, kicker) and the i8254 PIT driven by it:
// counts in modes 0/2/3, IRQ0 edges, latch, read-back, lobyte/hibyte, port 0x61.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "hw/clock.h"
#include "hw/timer/i8254.h"
#include "log_capture.h"

namespace corvid {
namespace {

// ns for n PIT ticks (rounded up, as the PIT's own timers are).
int64_t ticks_ns(int64_t n) { return (n * 1'000'000'000 + I8254::kFrequencyHz - 1) / I8254::kFrequencyHz; }

TEST(VirtualClock, ManualTimeOnlyMovesOnAdvance) {
    VirtualClock clock(true);
    EXPECT_EQ(clock.now_ns(), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(clock.now_ns(), 0);
    clock.advance(1500);
    EXPECT_EQ(clock.now_ns(), 1500);
}

TEST(VirtualClock, TimersRunInDeadlineOrderFromRunExpired) {
    VirtualClock clock(true);
    std::vector<int> fired;
    auto a = clock.add_timer([&] { fired.push_back(1); });
    auto b = clock.add_timer([&] { fired.push_back(2); });
    clock.arm(a, 200);
    clock.arm(b, 100);
    EXPECT_EQ(clock.next_deadline_ns(), 100);
    clock.advance(150);
    EXPECT_EQ(clock.next_deadline_ns(), 0);
    clock.run_expired();
    EXPECT_EQ(fired, std::vector<int>{2});
    clock.advance(100);
    clock.run_expired();
    EXPECT_EQ(fired, (std::vector<int>{2, 1}));
    EXPECT_EQ(clock.next_deadline_ns(), VirtualClock::kNoDeadline);
    clock.arm(a, 1000);
    clock.cancel(a);
    EXPECT_FALSE(clock.armed(a));
}

TEST(VirtualClock, AdvanceKicksWhenADeadlinePasses) {
    VirtualClock clock(true);
    std::atomic<int> kicks{0};
    clock.set_kick([&] { kicks++; });
    auto t = clock.add_timer([] {});
    clock.arm(t, 1000);
    clock.advance(500);
    EXPECT_EQ(kicks.load(), 0);
    clock.advance(500);
    EXPECT_EQ(kicks.load(), 1);
}

TEST(VirtualClock, KickerThreadWakesTheCpuOnHostTime) {
    VirtualClock clock(false);
    std::atomic<int> kicks{0};
    clock.set_kick([&] { kicks++; });
    auto t = clock.add_timer([] {});
    clock.arm(t, clock.now_ns() + 2'000'000);  // 2 ms
    for (int i = 0; i < 500 && kicks.load() == 0; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(kicks.load(), 1);
}

struct PitFixture : ::testing::Test {
    VirtualClock clock{true};
    std::vector<bool> irq;
    I8254 pit{clock, [this](bool l) { irq.push_back(l); }};

    void out(unsigned port, uint8_t v) { pit.write(port, v, 1); }
    uint8_t in(unsigned port) { return static_cast<uint8_t>(pit.read(port, 1)); }
    void program(int ch, int mode, uint16_t count) {
        out(3, static_cast<uint8_t>((ch << 6) | 0x30 | (mode << 1)));
        out(ch, count & 0xff);
        out(ch, count >> 8);
    }
    void step(int64_t ns) {
        clock.advance(ns);
        clock.run_expired();
    }
    int rising_edges() const {
        int n = 0;
        for (size_t i = 0; i < irq.size(); i++) n += irq[i] && (i == 0 || !irq[i - 1]);
        return n;
    }
};

TEST_F(PitFixture, Mode2CountsDownAndReloads) {
    program(0, 2, 1000);
    EXPECT_EQ(pit.count(0), 1000);
    step(ticks_ns(100));
    EXPECT_EQ(pit.count(0), 900);
    step(ticks_ns(950) - ticks_ns(100));
    EXPECT_EQ(pit.count(0), 50);
    step(ticks_ns(1000 + 10) - ticks_ns(950));
    EXPECT_EQ(pit.count(0), 990);  // reloaded
}

TEST_F(PitFixture, Mode2RaisesIrq0OncePerPeriod) {
    program(0, 2, 1193);  // ~1 kHz
    irq.clear();
    for (int i = 0; i < 10; i++) step(ticks_ns(1193 * (i + 1)) - ticks_ns(1193 * i) + 1);
    EXPECT_EQ(rising_edges(), 10);
    EXPECT_TRUE(clock.armed(0));
}

TEST_F(PitFixture, Mode3SquareWave) {
    program(0, 3, 100);
    EXPECT_TRUE(pit.output(0));
    step(ticks_ns(25));
    EXPECT_EQ(pit.count(0), 50);  // counts down by two
    EXPECT_TRUE(pit.output(0));
    step(ticks_ns(60) - ticks_ns(25));
    EXPECT_FALSE(pit.output(0));  // second half of the period
    step(ticks_ns(100) - ticks_ns(60));
    EXPECT_TRUE(pit.output(0));
}

TEST_F(PitFixture, Mode0InterruptOnTerminalCount) {
    program(0, 0, 500);
    EXPECT_FALSE(pit.output(0));
    EXPECT_FALSE(irq.back());
    step(ticks_ns(499));
    EXPECT_FALSE(pit.output(0));
    step(ticks_ns(500) - ticks_ns(499));
    EXPECT_TRUE(pit.output(0));
    EXPECT_TRUE(irq.back());
    EXPECT_FALSE(clock.armed(0));  // one-shot: nothing more to schedule
}

TEST_F(PitFixture, LatchFreezesTheReadValue) {
    program(0, 2, 1000);
    step(ticks_ns(100));
    out(3, 0x00);  // latch counter 0
    step(ticks_ns(300) - ticks_ns(100));
    EXPECT_EQ(in(0), 900 & 0xff);
    EXPECT_EQ(in(0), 900 >> 8);
    // Unlatched reads follow the counter again.
    EXPECT_EQ(in(0) | (in(0) << 8), 700);
}

TEST_F(PitFixture, ReadBackStatusAndCount) {
    program(2, 3, 0x1234);
    out(3, 0xc8);  // read-back: count and status of counter 2
    const uint8_t status = in(2);
    EXPECT_EQ(status & 0x3f, 0x36);  // lobyte/hibyte, mode 3, binary
    EXPECT_EQ(status & 0x40, 0);     // count loaded
    EXPECT_EQ(in(2) | (in(2) << 8), 0x1234);
}

TEST_F(PitFixture, LobyteOnlyAccess) {
    out(3, 0x14);  // counter 0, lobyte only, mode 2
    out(0, 200);
    EXPECT_EQ(pit.count(0), 200);
    EXPECT_EQ(in(0), 200);
    EXPECT_EQ(in(0), 200);  // every read is the low byte
}

TEST_F(PitFixture, Port61GateAndOut2) {
    MmioOps* p61 = pit.port61_ops();
    EXPECT_EQ(p61->read(0, 1) & 0x03, 0u);
    p61->write(0, 0x01, 1);
    EXPECT_TRUE(pit.gate(2));
    program(2, 0, 100);
    EXPECT_EQ(p61->read(0, 1) & 0x20, 0u);
    clock.advance(ticks_ns(100));
    EXPECT_EQ(p61->read(0, 1) & 0x20, 0x20u);
    EXPECT_EQ(p61->read(0, 1) & 0x01, 0x01u);
}

TEST_F(PitFixture, BadAccessesLogged) {
    testing::LogCapture log;
    EXPECT_EQ(pit.read(3, 1), 0xffu);
    out(1, 5);  // count before any control word
    pit.write(0, 0, 2);
    EXPECT_TRUE(log.contains("write-only control word"));
    EXPECT_TRUE(log.contains("before its control word"));
    EXPECT_TRUE(log.contains("i8254: bad write of size 2"));
}

}  // namespace
}  // namespace corvid
