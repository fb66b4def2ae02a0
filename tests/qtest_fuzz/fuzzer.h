// The seeded qtest command generator: random register, port, PCI config and DMA-planting
// commands against one device, with the reply and memory invariants checked as it goes.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/qtest_fuzz/qtest_board.h"

namespace corvid::fuzz {

// Where a device's registers are: a memory window or an I/O port range, with the offsets
// of its known registers (accesses lean towards them, and towards their neighbours).
struct Window {
    bool io = false;
    uint64_t base = 0, size = 0;
    std::vector<uint64_t> regs;
};

// CORVID_FUZZ_OPS / CORVID_FUZZ_SEED: the command-line knobs of the 1e6 runs.
uint64_t env_ops(uint64_t fallback);
uint64_t env_seed(uint64_t fallback);

class Fuzzer {
public:
    Fuzzer(QtestBoard& board, uint64_t seed);

    QtestBoard& board() { return board_; }
    const RamLayout& layout() const { return board_.layout(); }

    // ---- randomness ----
    uint64_t u(uint64_t n) { return n ? rng_() % n : 0; }
    bool one_in(uint64_t n) { return u(n) == 0; }
    uint64_t bits() { return rng_(); }
    // Mostly small, register-like or address-like values, sometimes anything.
    uint64_t value();
    unsigned size() { return 1u << u(4); }
    // A DMA address: usually inside `area` (a part of the window), sometimes implausible
    // (past RAM, straddling its end, MMIO, ROM, above 4 GiB, wrapping around).
    uint64_t dma_address(uint64_t area, uint64_t area_size);
    uint64_t implausible_address();

    // ---- commands (every reply is checked; a bad one records the failure) ----
    std::string cmd(const std::string& line);
    uint64_t read(uint64_t addr, unsigned size);  // readb/w/l/q
    void write(uint64_t addr, uint64_t value, unsigned size);
    uint64_t in(uint64_t port, unsigned size);  // inb/w/l
    void out(uint64_t port, uint64_t value, unsigned size);
    // Reads or writes a window register (port or memory access as the window says).
    uint64_t reg_read(const Window& w, uint64_t offset, unsigned size);
    void reg_write(const Window& w, uint64_t offset, uint64_t value, unsigned size);
    // Plants bytes in guest RAM ("write"); only inside the window (asserted).
    void plant(uint64_t addr, const std::vector<uint8_t>& bytes);
    void plant_u32(uint64_t addr, uint32_t v);
    void plant_u64(uint64_t addr, uint64_t v);
    void fill(uint64_t addr, uint64_t len, uint8_t v);  // "memset"
    uint64_t clock_step(uint64_t ns);

    // ---- PCI through 0xcf8/0xcfc (x86) ----
    uint32_t cfg_read(unsigned devfn, unsigned off, unsigned size);
    void cfg_write(unsigned devfn, unsigned off, uint32_t value, unsigned size);
    // What a BIOS does: sizes and assigns the BARs of `devfn`, enables I/O, memory and bus
    // mastering. Returns one window per BAR (empty size for unimplemented BARs).
    std::vector<Window> assign_bars(unsigned devfn);

    // ---- generic operations ----
    void op_register(const Window& w);        // a read or a write, any size, any offset
    void op_config(unsigned devfn);           // a random config-space access
    void op_bar_or_command(unsigned devfn);   // BAR reprogramming, command register toggles
    void op_bulk(const Window& w);            // read/write/memset of a run of bytes in a window
    void op_scribble(uint64_t area, uint64_t area_size);  // random bytes / memset in RAM
    void op_clock();                          // clock_step, small or large or to the deadline
    void op_malformed();                      // garbage lines: must get FAIL, never a crash

    // ---- invariants ----
    void fail(const std::string& why);
    bool failed() const { return !failure_.empty(); }
    const std::string& failure() const { return failure_; }
    uint64_t commands() const { return commands_; }
    // The guard hash equals the one taken at construction.
    void check_guard();
    // The last few commands (for failure reports).
    std::string history() const;

    // Keeps address-like bytes out of the guard: a byte that would be bit 24-31 of an
    // address inside [window end, RAM end) is moved into the window.
    uint8_t sanitize_byte(uint64_t at, uint8_t b) const;
    uint64_t sanitize(uint64_t at, uint64_t value, unsigned size) const;

private:
    // True when no region of `bus` overlaps [addr, addr+size) (a null bus has nothing).
    static bool unassigned(MemoryBus* bus, uint64_t addr, unsigned size);

    QtestBoard& board_;
    std::mt19937_64 rng_;
    std::string failure_;
    uint64_t commands_ = 0;
    uint64_t guard_ = 0;
    std::vector<std::string> history_;
    size_t history_pos_ = 0;
};

// What each device target implements: bring-up after (re)start, one random operation, and a
// scripted known-good transaction after the fuzz.
class DeviceDriver {
public:
    virtual ~DeviceDriver() = default;
    virtual void setup(Fuzzer& fz) = 0;
    virtual void op(Fuzzer& fz) = 0;
    virtual void check_works(Fuzzer& fz) = 0;
    // Counters that show the structured ops reached the device's engines (checked > 0).
    virtual std::string coverage_failure() const { return {}; }
};

// A fuzz target: a board, the devices on it and the driver.
struct Target {
    std::string name;
    Arch arch;
    std::string machine;
    std::vector<DeviceSpec> devices;
    std::unique_ptr<DeviceDriver> (*make)();
};

// All targets (x86 and virt).
const std::vector<Target>& targets();

struct RunResult {
    std::string failure;  // empty: all invariants held
    uint64_t commands = 0;
    int resets = 0;
    double seconds = 0;
};
// Builds the target's board and runs at least `ops` commands from `seed`; `record` (may be
// null) receives every command line sent. Short runs may skip the coverage check.
RunResult run_target(const Target& t, uint64_t ops, uint64_t seed, std::vector<std::string>* record = nullptr,
                     bool check_coverage = true);

}  // namespace corvid::fuzz
