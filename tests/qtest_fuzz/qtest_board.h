// An emulated board built in the test process the way the binary builds it (registry, machine,
// -netdev/-device), driven through QtestSession::execute: the qtest line protocol without a socket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/run_control.h"
#include "hw/machine.h"
#include "hw/net/net_backend.h"
#include "object/type_registry.h"
#include "policy/policy.h"
#include "system/qtest/qtest.h"
#include "system/vm.h"

namespace corvid::fuzz {

// Where the fuzzer may point devices: DMA structures are planted only inside the window; the
// guard (the top of RAM) must never change, since no address the fuzzer hands out reaches it.
struct RamLayout {
    uint64_t ram_base = 0, ram_size = 0;
    uint64_t window_base = 0, window_size = 0;
    uint64_t guard_base = 0, guard_size = 0;
    uint64_t rom_base = 0, rom_size = 0;  // firmware ROM: no device may write it either
    uint64_t open_bus_base = 0, open_bus_size = 0;  // unassigned addresses that read all-ones
    uint64_t ram_end() const { return ram_base + ram_size; }
    uint64_t window_end() const { return window_base + window_size; }
};

// A device to plug: the -device option text ("e1000,addr=4"). NICs get a hubport netdev of
// their own (netdev= is added) and a peer hubport on the same hub that the test drives.
struct DeviceSpec {
    std::string options;
    bool nic = false;
};

class QtestBoard {
public:
    // `arch` picks the type set; `machine` is the short name ("pc", "q35", "virt").
    QtestBoard(Arch arch, const std::string& machine, const std::vector<DeviceSpec>& devices);
    ~QtestBoard();
    QtestBoard(const QtestBoard&) = delete;
    QtestBoard& operator=(const QtestBoard&) = delete;

    // Empty when the board was built; the error otherwise.
    const std::string& error() const { return error_; }

    // One qtest line -> the reply line (with its "\n"). A reset a device requested is carried
    // out afterwards, as the qtest accelerator's loop does.
    std::string execute(const std::string& line);
    int resets() const { return resets_; }
    // Every executed line is appended here too (the end-to-end test replays them).
    void set_recorder(std::vector<std::string>* lines) { recorder_ = lines; }

    Machine& machine() { return *machine_; }
    const RamLayout& layout() const { return layout_; }
    // The peer hubport of the i-th NIC (in DeviceSpec order): send() on it reaches the NIC,
    // what the NIC transmits queues on it.
    NetBackend* peer(size_t i) const { return i < peers_.size() ? peers_[i] : nullptr; }
    // Frames the NIC sent so far (drained from the peer's queue).
    uint64_t drain_tx(size_t i);
    // Drops the frames still queued towards the i-th NIC (they outlive a machine reset, as
    // on a real wire): a scripted check then receives its own frame first.
    void drop_rx(size_t i);

    // A hash of the guard region and the ROM (read straight from the host pages).
    uint64_t guard_hash();

private:
    TypeRegistry registry_;
    Policy policy_{PolicyLevel::kAccept};
    RunControl rc_;
    std::unique_ptr<Vm> vm_;
    std::unique_ptr<Machine> machine_;
    std::unique_ptr<QtestSession> session_;
    std::vector<std::string> netdev_ids_;
    std::vector<NetBackend*> peers_;
    std::vector<NetBackend*> nics_;
    RamLayout layout_;
    std::string error_;
    int resets_ = 0;
    std::vector<std::string>* recorder_ = nullptr;
};

// Reply shape checks: "OK", "OK <anything>", "FAIL <reason>", "ERR <reason>", one line.
bool well_formed_reply(const std::string& reply);

}  // namespace corvid::fuzz
