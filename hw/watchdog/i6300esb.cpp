// i6300esb: the two-stage watchdog of the Intel 6300ESB I/O controller hub (datasheet
// section 16), with QEMU's register behaviour, and the -watchdog-action dispatch.
#include <atomic>
#include <mutex>

#include <fmt/format.h>

#include "base/log.h"
#include "base/run_control.h"
#include "hw/pci/pci_devices.h"
#include "hw/watchdog/watchdog.h"

namespace corvid {

namespace {
constexpr uint32_t kTimerMask = 0xfffff;  // 20-bit preloads
constexpr int64_t kPciTickNs = 30;        // the counters run off the 33 MHz PCI clock

std::atomic<WatchdogAction> g_action{WatchdogAction::kReset};
std::mutex g_hook_mu;
std::function<void(WatchdogAction)> g_hook;

constexpr const char* kActionNames[] = {"reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"};
}  // namespace

const char* watchdog_action_name(WatchdogAction a) { return kActionNames[static_cast<unsigned>(a)]; }

Result<WatchdogAction> parse_watchdog_action(std::string_view text) {
    for (unsigned i = 0; i < std::size(kActionNames); i++) {
        if (text == kActionNames[i]) return static_cast<WatchdogAction>(i);
    }
    return make_error(fmt::format("invalid parameter value: {}", text));
}

void set_watchdog_action(WatchdogAction action) { g_action = action; }
WatchdogAction watchdog_action() { return g_action; }

void set_watchdog_event_hook(std::function<void(WatchdogAction)> hook) {
    std::lock_guard<std::mutex> lock(g_hook_mu);
    g_hook = std::move(hook);
}

void watchdog_perform_action(RunControl& rc) {
    const WatchdogAction a = g_action;
    {
        std::lock_guard<std::mutex> lock(g_hook_mu);
        if (g_hook) g_hook(a);
    }
    switch (a) {
        case WatchdogAction::kReset: rc.request_reset(); break;
        case WatchdogAction::kShutdown:
        case WatchdogAction::kPoweroff: rc.request_shutdown(0); break;
        case WatchdogAction::kPause: rc.pause(); rc.notify(); break;
        case WatchdogAction::kDebug: log::write("watchdog: timer expired (action debug)"); break;
        case WatchdogAction::kNone: break;
        case WatchdogAction::kInjectNmi: log::write("watchdog: inject-nmi: no NMI line on this CPU model"); break;
    }
}

I6300Esb::I6300Esb(const PciDeviceHost& host)
    : PciDevice("i6300esb", {0x8086, 0x25ab, 0x00, 0x088000, 0}, host), timer_(host.clock, [this] { expire(); }) {
    add_bar(0, BarType::kMem32, kMmioSize, &mmio_, kAccessAny);
    set_reg(kConfigReg, 2, 0, 0x0027);  // interrupt type, frequency, output disable
    set_reg(kLockReg, 1, 0, 0x07);
    finish_config();
    reset_state();
}

void I6300Esb::reset_state() {
    timer_.cancel();
    timer1_ = timer2_ = kTimerMask;
    stage_ = 1;
    unlock_state_ = 0;
    stage1_irq_ = false;
}

void I6300Esb::reset() {
    PciDevice::reset();
    reset_state();
    // The "previous timeout" flag survives the reset it caused, so that the guest can tell.
}

int64_t I6300Esb::stage_ns(uint32_t value) const {
    const bool mhz = (word(kConfigReg) & kConfigFreq1Mhz) != 0;
    const int64_t ticks = static_cast<int64_t>(value & kTimerMask) << (mhz ? 5 : 15);
    return ticks * kPciTickNs;
}

void I6300Esb::restart() {
    stage_ = 1;
    if (!enabled()) {
        timer_.cancel();
        return;
    }
    deadline_ = timer_.now_ns() + stage_ns(timer1_);
    timer_.arm_at(deadline_);
}

void I6300Esb::config_write(unsigned offset, uint32_t value, unsigned size) {
    const bool locked = byte(kLockReg) & kLockNowayout;
    const bool touches_lock = offset <= kLockReg && kLockReg < offset + size;
    const bool touches_config = offset < kConfigReg + 2 && kConfigReg < offset + size;
    // Once locked (nowayout), the configuration and the lock itself are frozen until reset.
    if (locked && (touches_lock || touches_config)) {
        guest_error("write to locked watchdog configuration ignored");
        return;
    }
    const bool was_enabled = enabled();
    PciDevice::config_write(offset, value, size);
    if (touches_lock && was_enabled != enabled()) restart();
}

uint64_t I6300Esb::mmio_read(uint64_t offset, unsigned size) {
    if (offset == kReload && size == 2) return fired_ ? uint64_t{kReloadTimeout} : 0;
    if (offset == kGintsr) return stage1_irq_ ? 1 : 0;
    guest_error("read of size {} at offset 0x{:x}", size, offset);
    return 0;
}

void I6300Esb::mmio_write(uint64_t offset, uint64_t value, unsigned size) {
    if (offset == kReload && size == 2) {
        const uint16_t v = static_cast<uint16_t>(value);
        if (v == kUnlock1) {
            unlock_state_ = 1;
            return;
        }
        if (v == kUnlock2 && unlock_state_ == 1) {
            unlock_state_ = 2;
            return;
        }
        if (unlock_state_ == 2) {
            if (v & kReloadPing) restart();
            if (v & kReloadTimeout) fired_ = false;
            unlock_state_ = 0;
            return;
        }
        unlock_state_ = 0;
        guest_error("reload register write 0x{:x} without the unlock sequence ignored", v);
        return;
    }
    if ((offset == kTimer1 || offset == kTimer2) && size == 4) {
        if (unlock_state_ != 2) {
            guest_error("timer {} write without the unlock sequence ignored", offset == kTimer1 ? 1 : 2);
            return;
        }
        (offset == kTimer1 ? timer1_ : timer2_) = static_cast<uint32_t>(value) & kTimerMask;
        unlock_state_ = 0;
        return;
    }
    if (offset == kGintsr) {
        if (value & 1) {
            stage1_irq_ = false;
            set_irq(false);
        }
        return;
    }
    guest_error("write of size {} at offset 0x{:x} ignored", size, offset);
}

void I6300Esb::expire() {
    if (!enabled()) return;
    if (stage_ == 1) {
        // Stage 1: the pre-timeout interrupt (IRQ type only; SMI is not modelled), then
        // the second stage runs.
        if ((word(kConfigReg) & kConfigIntType) == 0) {
            stage1_irq_ = true;
            set_irq(true);
        }
        stage_ = 2;
        // From the stage-1 deadline, not from when the callback ran: late polling must not
        // stretch the guest's timeout.
        deadline_ += stage_ns(timer2_);
        timer_.arm_at(deadline_);
        return;
    }
    // Stage 2: the timeout. With the output disabled (config bit 5, active high as in the
    // datasheet and QEMU) the hardware only records it.
    fired_ = true;
    if (!(word(kConfigReg) & kConfigOutputDisable)) {
        log::logf(log::kGuestErrors, "i6300esb: watchdog fired, action {}", watchdog_action_name(watchdog_action()));
        if (host().rc) watchdog_perform_action(*host().rc);
    }
    stage_ = 1;
    timer_.cancel();
}

void register_i6300esb_type(TypeRegistry& r) {
    TypeInfo t;
    t.name = "i6300esb";
    t.description = "Intel 6300ESB watchdog timer";
    // No statement (as the brief asks): the model validates its accesses, but what it does
    // on timeout (reset, power off, pause) is the host's policy, not a guest boundary.
    t.security = Security::kUndeclared;
    auto check = [](const OptionList& props) -> Status {
        for (const auto& [k, v] : props.items) {
            if (k == "driver" || k == "id" || k.empty() || k == "addr" || k == "bus") continue;
            return make_error(fmt::format("Property 'i6300esb.{}' not found", k));
        }
        return {};
    };
    register_pci_device_type(
        r, std::move(t),
        [check](const OptionList& props, const PciDeviceHost& host) -> Result<std::unique_ptr<PciDevice>> {
            if (auto st = check(props); !st) return make_error(st.error());
            return std::unique_ptr<PciDevice>(std::make_unique<I6300Esb>(host));
        },
        check);
}

}  // namespace corvid
