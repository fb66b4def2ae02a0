// Tests for the MC146818 RTC/CMOS with a fixed wall clock: BCD/binary and 12/24 h encodings,
// the SET bit, UIP, register C/D, the periodic interrupt, NMI bit and CMOS RAM.
#include <gtest/gtest.h>

#include <ctime>
#include <vector>

#include "hw/clock.h"
#include "hw/rtc/mc146818.h"
#include "log_capture.h"

namespace corvid {
namespace {

using R = Mc146818;

int64_t epoch_ns(int y, int mo, int d, int h, int mi, int s) {
    tm t{};
    t.tm_year = y - 1900;
    t.tm_mon = mo - 1;
    t.tm_mday = d;
    t.tm_hour = h;
    t.tm_min = mi;
    t.tm_sec = s;
    return static_cast<int64_t>(timegm(&t)) * 1'000'000'000;
}

struct CmosFixture : ::testing::Test {
    VirtualClock clock{true};
    int64_t wall = epoch_ns(2026, 11, 22, 18, 10, 42) + 500'000'000;  // a Sunday
    std::vector<bool> irq;
    Mc146818 rtc{clock, [this](bool l) { irq.push_back(l); }, [this] { return wall; }};

    uint8_t rd(uint8_t idx) {
        rtc.write(0, idx, 1);
        return static_cast<uint8_t>(rtc.read(1, 1));
    }
    void wr(uint8_t idx, uint8_t v) {
        rtc.write(0, idx, 1);
        rtc.write(1, v, 1);
    }
};

TEST_F(CmosFixture, BcdTimeFromTheWallClock) {
    EXPECT_EQ(rd(R::kRegB), R::kB24h);
    EXPECT_EQ(rd(R::kSeconds), 0x42);
    EXPECT_EQ(rd(R::kMinutes), 0x10);
    EXPECT_EQ(rd(R::kHours), 0x18);
    EXPECT_EQ(rd(R::kDayOfWeek), 0x01);
    EXPECT_EQ(rd(R::kDayOfMonth), 0x22);
    EXPECT_EQ(rd(R::kMonth), 0x11);
    EXPECT_EQ(rd(R::kYear), 0x26);
    EXPECT_EQ(rd(R::kCentury), 0x20);
    wall += 3'000'000'000;
    EXPECT_EQ(rd(R::kSeconds), 0x45);  // the clock runs
}

TEST_F(CmosFixture, BinaryAnd12HourModes) {
    wr(R::kRegB, R::kB24h | R::kBDm);
    EXPECT_EQ(rd(R::kSeconds), 42);
    EXPECT_EQ(rd(R::kHours), 18);
    EXPECT_EQ(rd(R::kYear), 26);
    wr(R::kRegB, 0);  // BCD, 12 hour: 6 PM
    EXPECT_EQ(rd(R::kHours), 0x86);
}

TEST_F(CmosFixture, SetBitFreezesAndLoadsANewTime) {
    wr(R::kRegB, R::kB24h | R::kBSet);
    wr(R::kHours, 0x05);
    wr(R::kYear, 0x30);
    wall += 10'000'000'000;  // frozen while SET
    EXPECT_EQ(rd(R::kSeconds), 0x42);
    wr(R::kRegB, R::kB24h);
    EXPECT_EQ(rd(R::kHours), 0x05);
    EXPECT_EQ(rd(R::kYear), 0x30);
    EXPECT_EQ(rd(R::kMinutes), 0x10);
    wall += 2'000'000'000;
    EXPECT_EQ(rd(R::kSeconds), 0x44);  // running again from the loaded time
}

TEST_F(CmosFixture, UpdateInProgressJustBeforeTheSecond) {
    EXPECT_EQ(rd(R::kRegA), 0x26);
    wall = epoch_ns(2026, 1, 1, 0, 0, 0) + 999'900'000;
    EXPECT_EQ(rd(R::kRegA), 0x80 | 0x26);
    wall = epoch_ns(2026, 1, 1, 0, 0, 0) + 100'000'000;
    EXPECT_EQ(rd(R::kRegA), 0x26);
}

TEST_F(CmosFixture, PeriodicInterruptAndRegisterC) {
    wr(R::kRegA, 0x26);                     // 1024 Hz
    wr(R::kRegB, R::kB24h | R::kBPie);
    clock.advance(900'000);
    clock.run_expired();
    EXPECT_TRUE(irq.empty() || !irq.back());
    clock.advance(100'000);  // past 976.5625 us
    clock.run_expired();
    ASSERT_FALSE(irq.empty());
    EXPECT_TRUE(irq.back());
    EXPECT_EQ(rd(R::kRegC), R::kCIrqf | R::kCPf);
    EXPECT_FALSE(irq.back());  // reading C lowers the line
    EXPECT_EQ(rd(R::kRegC), 0);
    EXPECT_TRUE(clock.armed(0));
    wr(R::kRegB, R::kB24h);
    EXPECT_FALSE(clock.armed(0));
}

TEST_F(CmosFixture, RegisterDAndReadOnlyWrites) {
    testing::LogCapture log;
    EXPECT_EQ(rd(R::kRegD), 0x80);
    wr(R::kRegD, 0);
    EXPECT_EQ(rd(R::kRegD), 0x80);
    EXPECT_TRUE(log.contains("read-only register 0xd"));
}

TEST_F(CmosFixture, NmiBitAndCmosRam) {
    rtc.write(0, 0x80 | 0x40, 1);
    EXPECT_TRUE(rtc.nmi_disabled());
    rtc.write(1, 0x5a, 1);
    EXPECT_EQ(rd(0x40), 0x5a);
    EXPECT_FALSE(rtc.nmi_disabled());
    rtc.set_cmos(0x34, 0x12);
    EXPECT_EQ(rd(0x34), 0x12);
    EXPECT_EQ(rtc.read(0, 1), 0xffu);  // the index port is write-only
}

TEST_F(CmosFixture, BadAccessesLogged) {
    testing::LogCapture log;
    EXPECT_EQ(rtc.read(1, 2), 0xffu);
    EXPECT_TRUE(log.contains("mc146818: bad read of size 2"));
}

}  // namespace
}  // namespace corvid
