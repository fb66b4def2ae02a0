// The user-creatable PCI devices (-device / device_add): each device file registers its type
// with its security statement and a builder; boards call create_pci_device() to build one.
#pragma once

#include <functional>
#include <memory>

#include "base/options.h"
#include "base/result.h"
#include "hw/pci/pci_device.h"
#include "object/type_registry.h"

namespace corvid {

using PciBuilder = std::function<Result<std::unique_ptr<PciDevice>>(const OptionList& props, const PciDeviceHost& host)>;

// Registers `type` (parent pci-device, placeholder factory that validates the properties
// with `validate`) and remembers `build` for create_pci_device().
void register_pci_device_type(TypeRegistry& registry, TypeInfo type, PciBuilder build,
                              std::function<Status(const OptionList&)> validate);

// Every PCI device type of this folder tree (e1000, rtl8139, virtio-*-pci, i6300esb) and the
// netdev/filter types they use.
void register_pci_device_types(TypeRegistry& registry);

// True when create_pci_device() can build `type`.
bool has_pci_builder(const TypeInfo& type);
// Builds the device; the board then picks its slot (pci_device_addr), calls
// set_devfn() and adds it to its PciBus.
Result<std::unique_ptr<PciDevice>> create_pci_device(const TypeInfo& type, const OptionList& props, const PciDeviceHost& host);

// addr=SLOT[.FN] (QEMU syntax, hex); -1 when absent.
Result<int> pci_device_addr(const OptionList& props);

// Everything a board does for -device / device_add of a PCI model: builds it, takes the slot
// from addr= or the first free slot from `first_slot` on bus 0, sets its devfn and adds it
// to `bus` (which then owns it; PciBus::reset resets it). Returns the device.
Result<PciDevice*> plug_pci_device(PciBus& bus, const TypeInfo& type, const OptionList& props, const PciDeviceHost& host,
                                   unsigned first_slot = 2);

}  // namespace corvid
