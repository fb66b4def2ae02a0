// Test helper: a memory and I/O space, a PCI bus with a PIIX3 for INTx routing, and a
// backend that records what NICs transmit.
#pragma once

#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "hw/memory_map.h"
#include "hw/net/net_backend.h"
#include "hw/pci/pc_chipset.h"
#include "hw/pci/pci_device.h"

namespace corvid::testing {

class CaptureBackend : public NetBackend {
public:
    CaptureBackend() : NetBackend("capture") {}
    std::vector<std::vector<uint8_t>> sent;

protected:
    void transmit(const uint8_t* data, size_t len) override { sent.emplace_back(data, data + len); }
};

struct PciEnv {
    static constexpr uint64_t kRam = 16 << 20;
    AddressSpace mem{"memory"};
    AddressSpace io{"io", 0x10000};
    PciBus bus;
    std::map<int, bool> pic;  // last level per IRQ
    PciIntxRouter router{bus, PirqChipset::kPiix3, [this](int irq, bool l) { pic[irq] = l; }};
    PciDeviceHost host{&mem, &io, &router, nullptr, nullptr};

    PciEnv() {
        EXPECT_TRUE(mem.add_ram("ram", 0, kRam).ok());
        EXPECT_TRUE(mem.add_rom("rom", 0xfffc0000, 0x40000).ok());
        EXPECT_TRUE(bus.add(0x08, make_piix3_isa()).ok());
        // PIRQA-D -> 10, 10, 11, 11 (what SeaBIOS programs).
        const uint8_t irqs[4] = {10, 10, 11, 11};
        for (unsigned i = 0; i < 4; i++) bus.write(0, 0x08, 0x60 + i, irqs[i], 1);
    }
    bool irq(int n) const {
        auto it = pic.find(n);
        return it != pic.end() && it->second;
    }
    uint32_t rd32(uint64_t a) {
        uint32_t v = 0;
        EXPECT_TRUE(mem.read_bytes(a, &v, 4).ok());
        return v;
    }
    void wr(uint64_t a, const void* p, size_t n) { ASSERT_TRUE(mem.write_bytes(a, p, n).ok()); }
    template <typename T>
    void put(uint64_t a, T v) { wr(a, &v, sizeof v); }
    template <typename T>
    T get(uint64_t a) {
        T v{};
        EXPECT_TRUE(mem.read_bytes(a, &v, sizeof v).ok());
        return v;
    }
};

}  // namespace corvid::testing
