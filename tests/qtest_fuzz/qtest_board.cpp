// QtestBoard: the start-up sequence of system/vl.cpp reduced to what a qtest run needs.
#include "tests/qtest_fuzz/qtest_board.h"

#include <fmt/format.h>

#include <atomic>
#include <cstring>

#include "system/vl.h"

namespace corvid::fuzz {
namespace {

// -serial null.
class NullSerial : public CharBackend {
public:
    void write(const uint8_t*, size_t) override {}
    void set_receiver(Receiver) override {}
};
NullSerial g_null_serial;

constexpr uint64_t kMiB = 1ull << 20;
// Small RAM keeps the guard hash cheap; the window is the lower half, the guard the top
// 24 MiB, and the 8 MiB between them absorb ring/buffer offsets added to window addresses.
constexpr uint64_t kRamSize = 64 * kMiB;

// Netdev ids and hub numbers are process-wide (NetRegistry::global()): unique per board.
std::atomic<int> g_board_counter{0};

}  // namespace

QtestBoard::QtestBoard(Arch arch, const std::string& machine, const std::vector<DeviceSpec>& devices) {
    register_all_types(registry_, arch);
    vm_ = std::make_unique<Vm>(registry_, policy_, rc_);
    vm_->set_arch(arch);
    const TypeInfo* type = registry_.find(machine);
    if (!type) {
        for (const TypeInfo* t : registry_.list(kTypeMachine)) {
            if (t->short_name == machine) type = t;
        }
    }
    if (!type) {
        error_ = "no machine " + machine;
        return;
    }
    auto obj = registry_.create(*type, OptionList{});
    if (!obj) {
        error_ = obj.error();
        return;
    }
    machine_.reset(static_cast<Machine*>(obj->release()));
    machine_->set_type(type);
    MachineOptions mo;
    mo.ram_size = kRamSize;
    mo.serial0 = &g_null_serial;
    mo.run_control = &rc_;
    mo.cpu_model = machine_->default_cpu();
    if (auto st = machine_->init(mo); !st) {
        error_ = st.error();
        return;
    }
    layout_.ram_base = arch == Arch::kAArch64 ? 0x4000'0000 : 0;
    layout_.ram_size = kRamSize;
    layout_.window_base = layout_.ram_base;
    layout_.window_size = 32 * kMiB;
    layout_.guard_base = layout_.ram_base + 40 * kMiB;
    layout_.guard_size = 20 * kMiB;  // the top 4 MiB: addresses that straddle the end of RAM
    if (arch == Arch::kX86_64) layout_.rom_base = 0xfffc0000, layout_.rom_size = 0x40000;
    // pc and q35 decode the PCI hole (RAM end to 4 GiB) as an open bus.
    if (machine_->has_pci()) layout_.open_bus_base = kRamSize, layout_.open_bus_size = (1ull << 32) - kRamSize;
    vm_->set_machine(machine_.get(), type);

    const int board = g_board_counter.fetch_add(1);
    for (const DeviceSpec& d : devices) {
        auto opts = OptionList::parse(d.options, "driver");
        if (!opts) {
            error_ = opts.error();
            return;
        }
        if (d.nic) {
            const size_t n = netdev_ids_.size() / 2;
            const std::string nic_id = fmt::format("qfz{}-nic{}", board, n);
            const std::string peer_id = fmt::format("qfz{}-peer{}", board, n);
            const int hub = 4000 + board * 8 + static_cast<int>(n);
            for (const std::string& id : {nic_id, peer_id}) {
                auto nd = OptionList::parse(fmt::format("hubport,id={},hubid={}", id, hub), "type");
                if (!nd) {
                    error_ = nd.error();
                    return;
                }
                if (auto st = net_add_netdev(*nd, registry_, policy_, NetRegistry::global()); !st) {
                    error_ = st.error();
                    return;
                }
                netdev_ids_.push_back(id);
            }
            NetBackend* peer = NetRegistry::global().find(peer_id);
            // Attached, so that what the NIC sends queues here (drain_tx counts it).
            if (peer) (void)peer->attach([] {});
            peers_.push_back(peer);
            nics_.push_back(NetRegistry::global().find(nic_id));
            opts->items.push_back({"netdev", nic_id});
        }
        const std::string driver = opts->get("driver").value_or("");
        const TypeInfo* dt = registry_.find(driver);
        if (!dt) {
            error_ = "no device type " + driver;
            return;
        }
        if (auto st = machine_->add_device(*dt, *opts); !st) {
            error_ = st.error();
            return;
        }
    }
    session_ = std::make_unique<QtestSession>(*vm_);
}

QtestBoard::~QtestBoard() {
    session_.reset();
    vm_.reset();
    // NICs hold their backends: the machine goes first.
    machine_.reset();
    for (const std::string& id : netdev_ids_) (void)NetRegistry::global().remove(id);
}

std::string QtestBoard::execute(const std::string& line) {
    if (recorder_) recorder_->push_back(line);
    std::string reply = session_->execute(line);
    if (rc_.reset_requested()) {
        rc_.clear_reset();
        machine_->reset();
        resets_++;
    }
    return reply;
}

uint64_t QtestBoard::drain_tx(size_t i) {
    NetBackend* p = peer(i);
    uint64_t n = 0;
    while (p && p->deliver_one([](const uint8_t*, size_t) { return true; })) n++;
    return n;
}

void QtestBoard::drop_rx(size_t i) {
    NetBackend* n = i < nics_.size() ? nics_[i] : nullptr;
    while (n && n->deliver_one([](const uint8_t*, size_t) { return true; })) {
    }
}

uint64_t QtestBoard::guard_hash() {
    // FNV-1a over 64-bit words: enough to notice any change.
    uint64_t h = 0xcbf29ce484222325ull;
    auto add = [&](uint64_t base, uint64_t size) {
        for (uint64_t a = base; a < base + size; a += 4096) {
            bool writable = false;
            const uint8_t* page = machine_->memory().ram_page(a, &writable);
            if (!page) {
                h = (h ^ a) * 0x100000001b3ull;
                continue;
            }
            uint64_t w[512];
            std::memcpy(w, page, sizeof w);
            for (uint64_t x : w) h = (h ^ x) * 0x100000001b3ull;
        }
    };
    add(layout_.guard_base, layout_.guard_size);
    add(layout_.rom_base, layout_.rom_size);
    return h;
}

bool well_formed_reply(const std::string& reply) {
    if (reply.size() < 3 || reply.back() != '\n') return false;
    const std::string body = reply.substr(0, reply.size() - 1);
    if (body.find('\n') != std::string::npos || body.find('\r') != std::string::npos) return false;
    if (body == "OK") return true;
    for (const char* p : {"OK ", "FAIL ", "ERR "}) {
        const std::string prefix(p);
        if (body.size() > prefix.size() && body.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
}

}  // namespace corvid::fuzz
