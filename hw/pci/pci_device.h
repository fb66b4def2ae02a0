// A PCI endpoint with BARs (decoded into the board's memory / I/O space), INTx routed through
// the chipset's PIRQ registers to the PIC, a capability list and bus-master-checked DMA.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <cstdint>
#include <functional>
#include <string>

#include "base/log.h"
#include "hw/pci/pci.h"

namespace corvid {

class RunControl;
class VirtualClock;

// Which chipset routes INTx. QEMU's rules, which Corvid's boards follow:
//   pc  (PIIX3 at 00:01.0): PIRQ = (pin + slot - 1) & 3, PIRQA-D at PIIX3 0x60-0x63.
//   q35 (ICH9 LPC at 00:1f.0): PIRQ = (slot + pin) % 4 + 4, i.e. PIRQE-H at ICH9 0x68-0x6b
//       (QEMU's default D<slot>IR; PIRQA-D are left to PCIe root ports).
// `pin` is 0 for INTA. A routing register with bit 7 set disconnects its PIRQ; bits 3:0 name
// the ISA IRQ.
enum class PirqChipset : uint8_t { kPiix3, kIch9 };

// Shared by every PCI device of a board: PCI interrupts are level triggered and wire-ORed,
// so a PIC input is high while any device routed to it asserts its pin.
class PciIntxRouter {
public:
    static constexpr unsigned kNumPirqs = 8;

    PciIntxRouter(PciBus& bus, PirqChipset chipset, std::function<void(int irq, bool level)> set_pic_irq);

    // The PIRQ (0-7) that `pin` (0-3) of the device in `devfn` drives.
    unsigned pirq_of(uint8_t devfn, unsigned pin) const;
    // The ISA IRQ a PIRQ is routed to, or -1 when disconnected.
    int irq_of_pirq(unsigned pirq) const;

    // A device's pin changed level.
    void set_level(uint8_t devfn, unsigned pin, bool level);
    // Re-evaluates the PIC inputs (after the guest reprogrammed the routing registers; the
    // chipset does not notify, so boards call this from poll_devices and devices on every change).
    void refresh();
    void reset();

    int pirq_count(unsigned pirq) const { return pirq < kNumPirqs ? counts_[pirq] : 0; }

private:
    PciBus& bus_;
    PirqChipset chipset_;
    std::function<void(int, bool)> set_pic_irq_;
    std::array<int, kNumPirqs> counts_{};  // devices asserting each PIRQ
    std::array<bool, 16> driven_{};         // PIC inputs this router holds high
};

// What a board hands a PCI device: where BARs are decoded, where DMA goes, the INTx router
// and the services (clock, run control). `intx`, `clock` and `rc` may be null in unit tests.
struct PciDeviceHost {
    AddressSpace* memory = nullptr;
    AddressSpace* io = nullptr;
    PciIntxRouter* intx = nullptr;
    VirtualClock* clock = nullptr;
    RunControl* rc = nullptr;
};

// A device timer on the board's clock that is safe to destroy: the clock cannot remove
// timers, so the callback checks a token the destructor clears. Without a clock (unit tests)
// it never fires; tests call the device's handler directly.
class DeviceTimer {
public:
    DeviceTimer(VirtualClock* clock, std::function<void()> callback);
    ~DeviceTimer();
    DeviceTimer(const DeviceTimer&) = delete;
    DeviceTimer& operator=(const DeviceTimer&) = delete;

    void arm_at(int64_t deadline_ns);  // any thread
    void arm_now();                    // run the callback soon (any thread)
    void cancel();
    bool armed() const;
    int64_t now_ns() const;  // 0 without a clock

private:
    VirtualClock* clock_;
    int id_ = -1;
    std::shared_ptr<std::atomic<bool>> alive_;
};

class PciDevice : public PciFunction {
public:
    static constexpr unsigned kNumBars = 6;
    enum class BarType : uint8_t { kNone, kIo, kMem32, kMem64 };
    enum : uint16_t {
        kCmdIo = 0x0001, kCmdMemory = 0x0002, kCmdBusMaster = 0x0004, kCmdIntxDisable = 0x0400,
        kStatusIntx = 0x0008, kStatusCapList = 0x0010,
    };
    static constexpr unsigned kPciCapabilityPointer = 0x34;

    // `pin`: 1 = INTA ... 4 = INTD, 0 = no interrupt.
    PciDevice(std::string name, const PciId& id, const PciDeviceHost& host, uint8_t pin = 1, unsigned config_size = 256);
    ~PciDevice() override;

    // The slot the device was plugged into (INTx routing). Before the device is on a bus.
    void set_devfn(uint8_t devfn) { devfn_ = devfn; }
    uint8_t devfn() const { return devfn_; }

    // Power-on state: BARs unmapped and zero, interrupt deasserted. Subclasses call this
    // first and then reset their own registers.
    void reset() override;
    void config_write(unsigned offset, uint32_t value, unsigned size) override;
    // Hot-unplug, before the board destroys the device: unmaps the BARs (the guest then reads
    // the open bus there) and drops the interrupt line so no PIC input stays stuck high.
    void unplug();

    // The current decoded address of a BAR, or ~0 when it is not mapped.
    uint64_t bar_address(unsigned index) const;
    bool bar_mapped(unsigned index) const { return index < kNumBars && bars_[index].mapped; }

    bool bus_master() const { return (word(kPciCommand) & kCmdBusMaster) != 0; }
    bool irq_level() const { return irq_level_; }

    // DMA: the whole range must be RAM and bus mastering enabled; otherwise nothing is
    // transferred and an error (logged under guest_errors) is returned.
    Status dma_read(uint64_t addr, void* data, uint64_t len);
    Status dma_write(uint64_t addr, const void* data, uint64_t len);

    const PciDeviceHost& host() const { return host_; }

protected:
    // Declares BAR `index` (a 64-bit BAR uses index+1 too). `size` is a power of two (>= 16
    // for memory, >= 4 for I/O). `ops` is not owned.
    void add_bar(unsigned index, BarType type, uint64_t size, MmioOps* ops, uint8_t valid_sizes = kAccessAny,
                 bool prefetchable = false);
    // Appends a capability of `size` bytes (header included) to the list and returns its
    // offset; 0 when the config space is full. Call from the constructor.
    unsigned add_capability(uint8_t cap_id, unsigned size);

    // The device's interrupt output; routed unless the command register disables INTx.
    void set_irq(bool level);

    // Records the config space as its power-on state; reset() restores it. Subclasses call
    // this at the end of their constructor, after add_bar/add_capability/set_reg.
    void finish_config();

    // Logs a guest error prefixed with the device name.
    template <typename... Args>
    void guest_error(fmt::format_string<Args...> f, Args&&... args) const;

private:
    struct Bar {
        BarType type = BarType::kNone;
        uint64_t size = 0;
        MmioOps* ops = nullptr;
        uint8_t valid_sizes = kAccessAny;
        bool prefetchable = false;
        bool mapped = false;
        uint64_t mapped_at = 0;
    };

    void init_bar_registers();
    uint64_t bar_register_address(unsigned index) const;
    void update_mappings();
    void unmap_all();
    void update_intx();
    bool dma_allowed(uint64_t addr, uint64_t len, const char* what) const;

    PciDeviceHost host_;
    uint8_t pin_;
    uint8_t devfn_ = 0;
    std::array<Bar, kNumBars> bars_{};
    unsigned next_cap_ = 0x40;
    uint8_t last_cap_ = 0;  // offset of the last capability (0: none yet)
    std::vector<uint8_t> reset_config_, reset_wmask_, reset_w1c_;
    bool irq_level_ = false;
    bool routed_level_ = false;
};

template <typename... Args>
void PciDevice::guest_error(fmt::format_string<Args...> f, Args&&... args) const {
    if (log::enabled(log::kGuestErrors)) {
        log::write(fmt::format("{}: {}", name(), fmt::format(f, std::forward<Args>(args)...)));
    }
}

}  // namespace corvid
