// The device drivers of the qtest fuzzer (one per target) and the base they share.
#pragma once

#include <memory>
#include <vector>

#include "tests/qtest_fuzz/fuzzer.h"

namespace corvid::fuzz {

// A PCI function on bus 0: BARs assigned as a BIOS would, then random register, config, BAR
// and DMA commands mixed with the subclass's structured (driver-like) operations.
class PciDriverBase : public DeviceDriver {
public:
    explicit PciDriverBase(unsigned devfn);
    void setup(Fuzzer& fz) override;
    void op(Fuzzer& fz) override;

protected:
    static constexpr uint64_t kAreaSize = 0x10'0000;  // rings and buffers live here
    // Known register offsets per BAR.
    virtual void annotate(std::vector<Window>& bars) = 0;
    virtual void structured(Fuzzer& fz) = 0;
    // A random frame from the peer (NICs).
    void inject_frame(Fuzzer& fz);

    unsigned devfn_;
    std::vector<Window> bars_;
    uint64_t area_ = 0;
    bool nic_ = false;
    uint64_t tx_frames_ = 0;
};

std::unique_ptr<DeviceDriver> make_e1000_driver();
std::unique_ptr<DeviceDriver> make_e1000e_driver();  // 82574L, same model as e1000
std::unique_ptr<DeviceDriver> make_rtl8139_driver();
std::unique_ptr<DeviceDriver> make_esb_driver();
std::unique_ptr<DeviceDriver> make_virtio_pci_net_driver();
std::unique_ptr<DeviceDriver> make_virtio_pci_rng_driver();
std::unique_ptr<DeviceDriver> make_virtio_mmio_net_driver();
std::unique_ptr<DeviceDriver> make_virtio_mmio_rng_driver();
std::unique_ptr<DeviceDriver> make_serial_driver();
std::unique_ptr<DeviceDriver> make_pic_driver();
std::unique_ptr<DeviceDriver> make_pit_driver();
std::unique_ptr<DeviceDriver> make_rtc_driver();
std::unique_ptr<DeviceDriver> make_reset_ports_driver();
std::unique_ptr<DeviceDriver> make_pci_host_driver(bool q35);
std::unique_ptr<DeviceDriver> make_pl011_driver();
std::unique_ptr<DeviceDriver> make_gic_driver();

}  // namespace corvid::fuzz
