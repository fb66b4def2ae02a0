// -watchdog-action: what a watchdog device does when it fires, and the device model of the
// Intel 6300ESB watchdog (i6300esb, 8086:25ab).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "hw/pci/pci_device.h"

namespace corvid {

enum class WatchdogAction : uint8_t { kReset, kShutdown, kPoweroff, kPause, kDebug, kNone, kInjectNmi };

const char* watchdog_action_name(WatchdogAction a);
// reset|shutdown|poweroff|pause|debug|none|inject-nmi (QEMU's values).
Result<WatchdogAction> parse_watchdog_action(std::string_view text);

// Process-wide, as in QEMU: the command line (-watchdog-action) and the monitor
// (watchdog-set-action) call set_watchdog_action(); devices read it when they fire.
void set_watchdog_action(WatchdogAction action);
WatchdogAction watchdog_action();
// The monitor installs this to emit the WATCHDOG event; called before the action.
void set_watchdog_event_hook(std::function<void(WatchdogAction)> hook);

// Carries out the current action through `rc`. shutdown and poweroff both power off (no
// ACPI power button to press); inject-nmi has no NMI line on our CPUs and is logged only.
void watchdog_perform_action(RunControl& rc);

class I6300Esb : public PciDevice {
public:
    static constexpr uint64_t kMmioSize = 0x10;
    enum : unsigned { kConfigReg = 0x60, kLockReg = 0x68 };
    enum : uint64_t { kTimer1 = 0x00, kTimer2 = 0x04, kGintsr = 0x08, kReload = 0x0c };
    enum : uint32_t {
        kLockNowayout = 0x01, kLockEnable = 0x02, kLockFunc = 0x04,
        kConfigFreq1Mhz = 0x04, kConfigOutputDisable = 0x20, kConfigIntType = 0x03,
        kReloadPing = 0x100, kReloadTimeout = 0x200, kUnlock1 = 0x80, kUnlock2 = 0x86,
    };

    explicit I6300Esb(const PciDeviceHost& host);

    void reset() override;
    void config_write(unsigned offset, uint32_t value, unsigned size) override;

    uint64_t mmio_read(uint64_t offset, unsigned size);
    void mmio_write(uint64_t offset, uint64_t value, unsigned size);

    // The timer expired (DeviceTimer callback; tests call it directly).
    void expire();

    int stage() const { return stage_; }
    bool enabled() const { return (byte(kLockReg) & kLockEnable) != 0; }
    bool running() const { return timer_.armed(); }
    uint32_t timer1() const { return timer1_; }
    uint32_t timer2() const { return timer2_; }
    bool fired() const { return fired_; }
    // The nanoseconds a stage lasts with preload `value` at the configured frequency.
    int64_t stage_ns(uint32_t value) const;

private:
    struct Mmio : MmioOps {
        I6300Esb* self;
        explicit Mmio(I6300Esb* s) : self(s) {}
        uint64_t read(uint64_t offset, unsigned size) override { return self->mmio_read(offset, size); }
        void write(uint64_t offset, uint64_t value, unsigned size) override { self->mmio_write(offset, value, size); }
    };

    void restart();
    void reset_state();

    Mmio mmio_{this};
    DeviceTimer timer_;
    uint32_t timer1_ = 0, timer2_ = 0;
    int stage_ = 1;
    int64_t deadline_ = 0;
    int unlock_state_ = 0;  // 0: locked, 1: 0x80 seen, 2: next register write allowed
    bool stage1_irq_ = false;
    bool fired_ = false;  // the "previous reboot" flag: reload register bit 9
};

}  // namespace corvid
