// Registration and builders of virtio-net-pci / virtio-rng-pci (and their x86 aliases).
#include <fmt/format.h>

#include "hw/net/net_backend.h"
#include "hw/pci/pci_devices.h"
#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_pci.h"

namespace corvid {

namespace {

Status check_rng_props(const OptionList& props, const char* driver) {
    for (const auto& [k, v] : props.items) {
        if (k == "driver" || k == "id" || k.empty() || k == "addr" || k == "bus") continue;
        // The transport is modern-only: disable-legacy=on is what it already is.
        if (k == "disable-legacy") {
            if (v == "on" || v == "true" || v == "yes") continue;
            return make_error(fmt::format("{}: legacy virtio is not supported (disable-legacy must be on)", driver));
        }
        // rng= would name an rng-random object; the built-in source is getrandom(2).
        return make_error(fmt::format("Property '{}.{}' not found", driver, k));
    }
    return {};
}

}  // namespace

void register_virtio_pci_types(TypeRegistry& r) {
    TypeInfo net;
    net.name = "virtio-net-pci";
    net.aliases = {"virtio-net"};
    net.description = "virtio 1.0 network card (modern PCI transport)";
    // Rings are validated and copied before use, frame sizes bounded, loops bounded by
    // the ring size; a malformed ring puts the device in NEEDS_RESET.
    net.security = Security::kSecure;
    register_pci_device_type(
        r, std::move(net),
        [](const OptionList& props, const PciDeviceHost& host) -> Result<std::unique_ptr<PciDevice>> {
            auto nic = parse_nic_options("virtio-net-pci", props, NetRegistry::global());
            if (!nic) return make_error(nic.error());
            auto dev = std::make_unique<VirtioNet>(*nic, host.clock);
            return std::unique_ptr<PciDevice>(std::make_unique<VirtioPci>("virtio-net-pci", std::move(dev), 0x020000, host));
        },
        [](const OptionList& props) -> Status {
            auto nic = parse_nic_options("virtio-net-pci", props, NetRegistry::global(), {}, false);
            if (!nic) return make_error(nic.error());
            return {};
        });

    TypeInfo rng;
    rng.name = "virtio-rng-pci";
    rng.aliases = {"virtio-rng"};
    rng.description = "virtio 1.0 entropy source (getrandom)";
    // Same ring handling as virtio-net; each request is capped at 4 KiB of host entropy.
    rng.security = Security::kSecure;
    register_pci_device_type(
        r, std::move(rng),
        [](const OptionList& props, const PciDeviceHost& host) -> Result<std::unique_ptr<PciDevice>> {
            if (auto st = check_rng_props(props, "virtio-rng-pci"); !st) return make_error(st.error());
            return std::unique_ptr<PciDevice>(
                std::make_unique<VirtioPci>("virtio-rng-pci", std::make_unique<VirtioRng>(), 0x00ff00, host));
        },
        [](const OptionList& props) { return check_rng_props(props, "virtio-rng-pci"); });
}

}  // namespace corvid
