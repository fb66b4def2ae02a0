// i6300esb: unlock sequence, two stages on the virtual clock, reload, lock (nowayout), the
// -watchdog-action values, and a seeded register fuzz.
#include <gtest/gtest.h>

#include <random>

#include "base/run_control.h"
#include "hw/clock.h"
#include "hw/watchdog/watchdog.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::PciEnv;

struct Wdt : PciEnv {
    VirtualClock clock{true};
    RunControl rc;
    std::unique_ptr<I6300Esb> dev;
    Wdt() {
        host.clock = &clock;
        host.rc = &rc;
        dev = std::make_unique<I6300Esb>(host);
        dev->set_devfn(0x28);
        set_watchdog_action(WatchdogAction::kReset);
    }
    void unlock() {
        dev->mmio_write(I6300Esb::kReload, I6300Esb::kUnlock1, 2);
        dev->mmio_write(I6300Esb::kReload, I6300Esb::kUnlock2, 2);
    }
    void set_timers(uint32_t t1, uint32_t t2) {
        unlock();
        dev->mmio_write(I6300Esb::kTimer1, t1, 4);
        unlock();
        dev->mmio_write(I6300Esb::kTimer2, t2, 4);
    }
    void step(int64_t ns) {
        clock.advance(ns);
        clock.run_expired();
    }
};

TEST(WatchdogI6300esb, ActionNames) {
    for (const char* n : {"reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"}) {
        auto a = parse_watchdog_action(n);
        ASSERT_TRUE(a.ok()) << n;
        EXPECT_STREQ(watchdog_action_name(*a), n);
    }
    EXPECT_FALSE(parse_watchdog_action("explode").ok());
}

TEST(WatchdogI6300esb, TimerWritesNeedUnlock) {
    Wdt w;
    testing::LogCapture log;
    w.dev->mmio_write(I6300Esb::kTimer1, 5, 4);
    EXPECT_EQ(w.dev->timer1(), 0xfffffu);
    EXPECT_TRUE(log.contains("without the unlock sequence"));
    w.unlock();
    w.dev->mmio_write(I6300Esb::kTimer1, 0x123456, 4);
    EXPECT_EQ(w.dev->timer1(), 0x23456u);  // 20 bits
    w.dev->mmio_write(I6300Esb::kTimer1, 7, 4);  // relocked after one write
    EXPECT_EQ(w.dev->timer1(), 0x23456u);
}

TEST(WatchdogI6300esb, TwoStagesThenReset) {
    Wdt w;
    w.set_timers(10, 20);
    w.dev->config_write(I6300Esb::kConfigReg, 0, 2);  // output enabled, 1 kHz, IRQ type
    w.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable, 1);
    ASSERT_TRUE(w.dev->running());
    const int64_t s1 = w.dev->stage_ns(10), s2 = w.dev->stage_ns(20);
    EXPECT_EQ(s1, 10ll * 32768 * 30);
    w.step(s1 - 1);
    EXPECT_EQ(w.dev->stage(), 1);
    w.step(1);
    EXPECT_EQ(w.dev->stage(), 2);
    EXPECT_TRUE(w.dev->irq_level());  // pre-timeout interrupt
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kGintsr, 4), 1u);
    EXPECT_FALSE(w.rc.reset_requested());
    w.step(s2);
    EXPECT_TRUE(w.rc.reset_requested());
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kReload, 2), I6300Esb::kReloadTimeout);
}

// The guest tells a watchdog reboot from a cold boot by this flag (the driver guest's
// watchdog-reset run): it must survive the reset it caused and clear only when written.
TEST(WatchdogI6300esb, TimeoutFlagSurvivesResetUntilCleared) {
    Wdt w;
    w.set_timers(1, 1);
    w.dev->config_write(I6300Esb::kConfigReg, 0, 2);
    w.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable, 1);
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kReload, 2), 0u);
    w.step(w.dev->stage_ns(1));
    w.step(w.dev->stage_ns(1));
    ASSERT_TRUE(w.rc.reset_requested());
    w.dev->reset();
    EXPECT_FALSE(w.dev->enabled());
    EXPECT_FALSE(w.dev->running());
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kReload, 2), I6300Esb::kReloadTimeout);
    w.dev->mmio_write(I6300Esb::kReload, I6300Esb::kReloadTimeout, 2);  // without unlock: ignored
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kReload, 2), I6300Esb::kReloadTimeout);
    w.unlock();
    w.dev->mmio_write(I6300Esb::kReload, I6300Esb::kReloadTimeout, 2);
    EXPECT_EQ(w.dev->mmio_read(I6300Esb::kReload, 2), 0u);
}

TEST(WatchdogI6300esb, ReloadRestartsStageOne) {
    Wdt w;
    w.set_timers(4, 4);
    w.dev->config_write(I6300Esb::kConfigReg, I6300Esb::kConfigFreq1Mhz, 2);
    w.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable, 1);
    const int64_t s = w.dev->stage_ns(4);
    EXPECT_EQ(s, 4ll * 32 * 30);
    for (int i = 0; i < 10; i++) {
        w.step(s / 2);
        w.unlock();
        w.dev->mmio_write(I6300Esb::kReload, I6300Esb::kReloadPing, 2);
    }
    EXPECT_EQ(w.dev->stage(), 1);
    EXPECT_FALSE(w.rc.reset_requested());
    w.step(2 * s);
    EXPECT_TRUE(w.rc.reset_requested());
}

TEST(WatchdogI6300esb, OutputDisabledOnlyRecordsAndActionsApply) {
    Wdt w;
    w.dev->config_write(I6300Esb::kConfigReg, I6300Esb::kConfigOutputDisable, 2);
    w.set_timers(1, 1);
    w.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable, 1);
    w.step(w.dev->stage_ns(1) * 2 + 10);
    EXPECT_TRUE(w.dev->fired());
    EXPECT_FALSE(w.rc.reset_requested());
    EXPECT_FALSE(w.rc.shutdown_requested());

    Wdt p;
    set_watchdog_action(WatchdogAction::kPoweroff);
    WatchdogAction seen = WatchdogAction::kNone;
    set_watchdog_event_hook([&](WatchdogAction a) { seen = a; });
    p.set_timers(1, 1);
    p.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable, 1);
    p.step(p.dev->stage_ns(1));
    p.step(p.dev->stage_ns(1));
    EXPECT_TRUE(p.rc.shutdown_requested());
    EXPECT_EQ(seen, WatchdogAction::kPoweroff);
    set_watchdog_event_hook(nullptr);
    set_watchdog_action(WatchdogAction::kReset);
}

TEST(WatchdogI6300esb, LockFreezesConfigUntilReset) {
    Wdt w;
    w.dev->config_write(I6300Esb::kLockReg, I6300Esb::kLockEnable | I6300Esb::kLockNowayout, 1);
    ASSERT_TRUE(w.dev->running());
    testing::LogCapture log;
    w.dev->config_write(I6300Esb::kLockReg, 0, 1);
    EXPECT_TRUE(w.dev->enabled());
    EXPECT_TRUE(w.dev->running());
    w.dev->reset();
    EXPECT_FALSE(w.dev->enabled());
    EXPECT_FALSE(w.dev->running());
}

TEST(WatchdogI6300esb, SeededRegisterFuzz) {
    Wdt w;
    set_watchdog_action(WatchdogAction::kNone);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100000; i++) {
        switch (rng() % 5) {
            case 0: w.dev->mmio_write(rng() % 0x10, rng() % 2 ? (rng() % 2 ? 0x80 : 0x86) : rng(), 1u << (rng() % 4)); break;
            case 1: (void)w.dev->mmio_read(rng() % 0x10, 1u << (rng() % 4)); break;
            case 2: w.dev->config_write(0x60 + (rng() % 4) * 4, static_cast<uint32_t>(rng()), 4); break;
            case 3: w.step(static_cast<int64_t>(rng() % 5'000'000)); break;
            default: if (rng() % 100 == 0) w.dev->reset();
        }
        ASSERT_TRUE(w.dev->stage() == 1 || w.dev->stage() == 2);
        ASSERT_LE(w.dev->timer1(), 0xfffffu);
        if (!w.dev->enabled()) {
            ASSERT_FALSE(w.dev->running());
        }
    }
    set_watchdog_action(WatchdogAction::kReset);
}

}  // namespace
}  // namespace corvid
