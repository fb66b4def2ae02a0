// The fuzz targets: every device reachable through qtest on pc, q35 and virt.
#include "tests/qtest_fuzz/drivers.h"

namespace corvid::fuzz {
namespace {

// Several devices on one board, one random operation of a random one at a time: BARs that
// the fuzz moves collide with the other devices' live BARs.
class CompositeDriver : public DeviceDriver {
public:
    explicit CompositeDriver(std::vector<std::unique_ptr<DeviceDriver>> parts) : parts_(std::move(parts)) {}
    void setup(Fuzzer& fz) override {
        for (auto& p : parts_) p->setup(fz);
    }
    void op(Fuzzer& fz) override { parts_[fz.u(parts_.size())]->op(fz); }
    void check_works(Fuzzer& fz) override {
        for (auto& p : parts_) {
            const int resets = fz.board().resets();
            p->check_works(fz);
            // The watchdog's check ends in a reset: bring everything up again.
            if (fz.board().resets() != resets) setup(fz);
        }
    }

private:
    std::vector<std::unique_ptr<DeviceDriver>> parts_;
};

std::unique_ptr<DeviceDriver> make_pc_mix() {
    std::vector<std::unique_ptr<DeviceDriver>> p;
    p.push_back(make_rtl8139_driver());
    p.push_back(make_esb_driver());
    p.push_back(make_virtio_pci_rng_driver());
    p.push_back(make_serial_driver());
    p.push_back(make_pic_driver());
    return std::make_unique<CompositeDriver>(std::move(p));
}

std::vector<Target> make_targets() {
    std::vector<Target> t;
    const Arch x86 = Arch::kX86_64, a64 = Arch::kAArch64;
    t.push_back({"serial_16550", x86, "pc", {}, make_serial_driver});
    t.push_back({"i8259", x86, "pc", {}, make_pic_driver});
    t.push_back({"i8254", x86, "pc", {}, make_pit_driver});
    t.push_back({"mc146818", x86, "pc", {}, make_rtc_driver});
    t.push_back({"reset_ports", x86, "pc", {}, make_reset_ports_driver});
    t.push_back({"pci_host_pc", x86, "pc", {{"e1000,addr=4", true}}, [] { return make_pci_host_driver(false); }});
    t.push_back({"pci_host_q35", x86, "q35", {{"e1000,addr=4", true}}, [] { return make_pci_host_driver(true); }});
    t.push_back({"e1000", x86, "pc", {{"e1000,addr=4", true}}, make_e1000_driver});
    t.push_back({"e1000_q35", x86, "q35", {{"e1000,addr=4", true}}, make_e1000_driver});
    t.push_back({"e1000e", x86, "q35", {{"e1000e,addr=4", true}}, make_e1000e_driver});
    t.push_back({"rtl8139", x86, "pc", {{"rtl8139,addr=5", true}}, make_rtl8139_driver});
    t.push_back({"virtio_net_pci", x86, "pc", {{"virtio-net-pci,addr=7", true}}, make_virtio_pci_net_driver});
    t.push_back({"virtio_rng_pci", x86, "q35", {{"virtio-rng-pci,addr=8", false}}, make_virtio_pci_rng_driver});
    t.push_back({"i6300esb", x86, "pc", {{"i6300esb,addr=6", false}}, make_esb_driver});
    t.push_back({"pc_mix", x86, "pc",
                 {{"rtl8139,addr=5", true}, {"i6300esb,addr=6", false}, {"virtio-rng-pci,addr=8", false}},
                 make_pc_mix});
    t.push_back({"pl011", a64, "virt", {}, make_pl011_driver});
    t.push_back({"gicv2", a64, "virt", {}, make_gic_driver});
    t.push_back({"virtio_net_mmio", a64, "virt", {{"virtio-net-device", true}}, make_virtio_mmio_net_driver});
    t.push_back({"virtio_rng_mmio", a64, "virt", {{"virtio-rng-device", false}}, make_virtio_mmio_rng_driver});
    return t;
}

}  // namespace

const std::vector<Target>& targets() {
    static const std::vector<Target> kTargets = make_targets();
    return kTargets;
}

}  // namespace corvid::fuzz
