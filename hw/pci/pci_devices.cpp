// The PCI device builder table and the registration of every user-creatable PCI device.
#include "hw/pci/pci_devices.h"

#include <cctype>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "hw/boards/x86_devices.h"
#include "hw/net/net_backend.h"

namespace corvid {

void register_e1000_type(TypeRegistry& registry);
void register_virtio_pci_types(TypeRegistry& registry);
void register_rtl8139_type(TypeRegistry& registry);
void register_i6300esb_type(TypeRegistry& registry);

namespace {
std::mutex& table_mutex() {
    static std::mutex mu;
    return mu;
}
std::map<std::string, PciBuilder>& table() {
    static std::map<std::string, PciBuilder> t;
    return t;
}

class ValidatedDevice : public Object {};
}  // namespace

void register_pci_device_type(TypeRegistry& registry, TypeInfo type, PciBuilder build,
                              std::function<Status(const OptionList&)> validate) {
    if (registry.find(type.name)) return;
    type.parent = kTypePciDevice;
    type.user_creatable = true;
    type.factory = [validate = std::move(validate)](const TypeInfo&, const OptionList& props) -> Result<std::unique_ptr<Object>> {
        if (validate) {
            if (auto st = validate(props); !st) return make_error(st.error());
        }
        return std::unique_ptr<Object>(std::make_unique<ValidatedDevice>());
    };
    {
        std::lock_guard<std::mutex> lock(table_mutex());
        table()[type.name] = std::move(build);
    }
    (void)registry.add(std::move(type));
}

void register_pci_device_types(TypeRegistry& registry) {
    if (!registry.find(kTypePciDevice)) {
        TypeInfo pci;
        pci.name = kTypePciDevice;
        pci.parent = kTypeDevice;
        pci.description = "PCI device";
        pci.abstract = true;
        (void)registry.add(std::move(pci));
    }
    register_net_backend_types(registry);
    register_e1000_type(registry);
    register_rtl8139_type(registry);
    register_virtio_pci_types(registry);
    register_i6300esb_type(registry);
}

bool has_pci_builder(const TypeInfo& type) {
    std::lock_guard<std::mutex> lock(table_mutex());
    return table().count(type.name) != 0;
}

Result<std::unique_ptr<PciDevice>> create_pci_device(const TypeInfo& type, const OptionList& props, const PciDeviceHost& host) {
    PciBuilder build;
    {
        std::lock_guard<std::mutex> lock(table_mutex());
        auto it = table().find(type.name);
        if (it == table().end()) return make_error(fmt::format("'{}' is not a PCI device model", type.name));
        build = it->second;
    }
    return build(props, host);
}

Result<int> pci_device_addr(const OptionList& props) {
    auto a = props.get("addr");
    if (!a) return -1;
    unsigned slot = 0, fn = 0;
    const std::string& s = *a;
    size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) i = 2;
    const size_t start = i;
    for (; i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i])); i++) {
        slot = slot * 16 + static_cast<unsigned>(std::stoi(std::string(1, s[i]), nullptr, 16));
        if (slot > 31) break;
    }
    bool ok = i > start && slot <= 31;
    if (ok && i < s.size()) {
        ok = s[i] == '.' && i + 2 == s.size() && s[i + 1] >= '0' && s[i + 1] <= '7';
        if (ok) fn = static_cast<unsigned>(s[i + 1] - '0');
    }
    if (!ok) return make_error(fmt::format("Property 'addr' doesn't take value '{}'", s));
    return static_cast<int>(slot << 3 | fn);
}

Result<PciDevice*> plug_pci_device(PciBus& bus, const TypeInfo& type, const OptionList& props, const PciDeviceHost& host,
                                   unsigned first_slot) {
    auto addr = pci_device_addr(props);
    if (!addr) return make_error(addr.error());
    int devfn = *addr;
    if (devfn < 0) {
        for (unsigned slot = first_slot; slot < 32 && devfn < 0; slot++) {
            if (!bus.find(0, slot << 3)) devfn = static_cast<int>(slot << 3);
        }
        if (devfn < 0) return make_error(fmt::format("PCI: no slot available for {}", type.name));
    } else if (bus.find(0, static_cast<unsigned>(devfn))) {
        return make_error(fmt::format("PCI: slot {} function {} not available for {}", devfn >> 3, devfn & 7, type.name));
    }
    auto dev = create_pci_device(type, props, host);
    if (!dev) return make_error(dev.error());
    PciDevice* raw = dev->get();
    raw->set_devfn(static_cast<uint8_t>(devfn));
    if (auto st = bus.add(static_cast<uint8_t>(devfn), std::move(*dev)); !st) return make_error(st.error());
    return raw;
}

}  // namespace corvid
