// The generic half of the qtest fuzzer: command formatting, reply checks, PCI BIOS work and
// the device-independent random operations.
#include "tests/qtest_fuzz/fuzzer.h"

#include "hw/memory_map.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace corvid::fuzz {
namespace {

constexpr size_t kHistory = 16;

bool parse_hex_reply(const std::string& reply, size_t min_digits, uint64_t* out) {
    // "OK 0x<hex>\n"
    if (reply.compare(0, 5, "OK 0x") != 0 || reply.back() != '\n') return false;
    const std::string digits = reply.substr(5, reply.size() - 6);
    if (digits.size() < min_digits || digits.size() > 16) return false;
    uint64_t v = 0;
    for (char c : digits) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
}

uint64_t size_mask(unsigned size) {
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

char size_letter(unsigned size) {
    return size == 1 ? 'b' : size == 2 ? 'w' : size == 4 ? 'l' : 'q';
}

uint64_t env_number(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 0);
    return end && *end == '\0' ? n : fallback;
}

}  // namespace

uint64_t env_ops(uint64_t fallback) {
    return env_number("CORVID_FUZZ_OPS", fallback);
}
uint64_t env_seed(uint64_t fallback) {
    return env_number("CORVID_FUZZ_SEED", fallback);
}

Fuzzer::Fuzzer(QtestBoard& board, uint64_t seed) : board_(board), rng_(seed), history_(kHistory) {
    guard_ = board_.guard_hash();
}

uint64_t Fuzzer::value() {
    switch (u(8)) {
        case 0: return bits();
        case 1: return u(16);
        case 2: return 1ull << u(64);
        case 3: return ~0ull >> u(64);
        case 4: return layout().window_base + u(layout().window_size);
        case 5: return u(0x10000);
        default: return static_cast<uint32_t>(bits());
    }
}

uint64_t Fuzzer::implausible_address() {
    const RamLayout& l = layout();
    switch (u(9)) {
        case 0: return l.ram_end() - 1 - u(64);  // straddles the end of RAM
        case 1: return l.ram_end() + u(0x10000);  // the hole after RAM
        case 2: return 0xe000'0000 + u(0x0100'0000);  // PCI BARs (x86), unassigned (virt)
        case 3: return 0xfffc'0000 + u(0x40000);  // the firmware ROM (x86)
        case 4: return ~0ull - u(0x2000);  // wraps around
        case 5: return 1ull << (32 + u(32));  // far above RAM
        case 6: return l.window_base + u(l.window_size) * 2 + 1;  // odd, possibly past the window
        case 7: return 0x0900'0000 + u(0x1000);  // the PL011 (virt), the hole after RAM (x86)
        default: return bits();
    }
}

uint64_t Fuzzer::dma_address(uint64_t area, uint64_t area_size) {
    uint64_t a = one_in(5) ? implausible_address() : area + (u(area_size) & ~(one_in(4) ? 0ull : 0xfull));
    // Never inside the guard: there a device would legitimately write.
    if (a >= layout().window_end() && a < layout().guard_base + layout().guard_size) a = area + u(area_size);
    return a;
}

uint8_t Fuzzer::sanitize_byte(uint64_t at, uint8_t b) const {
    if ((at & 3) != 3) return b;
    const RamLayout& l = layout();
    const uint64_t lo = l.window_end() >> 24, hi = (l.guard_base + l.guard_size - 1) >> 24;
    if (b >= lo && b <= hi) return static_cast<uint8_t>(b - (l.window_size >> 24));
    return b;
}

uint64_t Fuzzer::sanitize(uint64_t at, uint64_t value, unsigned size) const {
    uint64_t out = 0;
    for (unsigned i = 0; i < size; i++) {
        out |= static_cast<uint64_t>(sanitize_byte(at + i, static_cast<uint8_t>(value >> (8 * i)))) << (8 * i);
    }
    return out;
}

void Fuzzer::fail(const std::string& why) {
    if (failure_.empty()) failure_ = fmt::format("after {} commands: {}\nlast commands:\n{}", commands_, why, history());
}

std::string Fuzzer::history() const {
    std::string out;
    for (size_t i = 0; i < kHistory; i++) {
        const std::string& h = history_[(history_pos_ + i) % kHistory];
        if (!h.empty()) out += "  " + h + "\n";
    }
    return out;
}

std::string Fuzzer::cmd(const std::string& line) {
    commands_++;
    history_[history_pos_] = line.size() > 200 ? line.substr(0, 200) + "..." : line;
    history_pos_ = (history_pos_ + 1) % kHistory;
    std::string reply = board_.execute(line);
    if (!well_formed_reply(reply)) fail(fmt::format("malformed reply '{}' to '{}'", reply, line));
    return reply;
}

bool Fuzzer::unassigned(MemoryBus* bus, uint64_t addr, unsigned size) {
    auto* as = dynamic_cast<AddressSpace*>(bus);
    if (!as) return bus == nullptr;
    for (const RegionInfo& r : as->regions()) {
        if (addr + size > r.base && addr < r.base + r.size) return false;
    }
    return true;
}

uint64_t Fuzzer::read(uint64_t addr, unsigned size) {
    const std::string reply = cmd(fmt::format("read{} 0x{:x}", size_letter(size), addr));
    uint64_t v = 0;
    if (!parse_hex_reply(reply, 16, &v)) {
        fail(fmt::format("read{} 0x{:x}: reply '{}'", size_letter(size), addr, reply));
    } else if (v & ~size_mask(size)) {
        fail(fmt::format("read{} 0x{:x}: 0x{:x} has bits beyond the access size", size_letter(size), addr, v));
    } else if ((commands_ & 3) == 0 && addr + size > addr && unassigned(&board_.machine().memory(), addr, size)) {
        // Nothing decodes the address: the PCI hole of pc/q35 is an open bus (all-ones, as a
        // master abort reads); elsewhere qtest reads 0, as QEMU's unassigned_mem_read.
        const RamLayout& l = layout();
        const bool open = addr >= l.open_bus_base && addr - l.open_bus_base < l.open_bus_size;
        const uint64_t want = open ? size_mask(size) : 0;
        if (v != want) fail(fmt::format("read{} 0x{:x}: unassigned memory read 0x{:x}, not 0x{:x}", size_letter(size), addr, v, want));
    }
    return v;
}

void Fuzzer::write(uint64_t addr, uint64_t value, unsigned size) {
    const std::string reply = cmd(fmt::format("write{} 0x{:x} 0x{:x}", size_letter(size), addr, value & size_mask(size)));
    if (reply != "OK\n") fail(fmt::format("write{} 0x{:x}: reply '{}'", size_letter(size), addr, reply));
}

uint64_t Fuzzer::in(uint64_t port, unsigned size) {
    const std::string reply = cmd(fmt::format("in{} 0x{:x}", size_letter(size), port));
    uint64_t v = 0;
    if (!parse_hex_reply(reply, 4, &v)) {
        fail(fmt::format("in{} 0x{:x}: reply '{}'", size_letter(size), port, reply));
    } else if (v & ~size_mask(size)) {
        fail(fmt::format("in{} 0x{:x}: 0x{:x} has bits beyond the access size", size_letter(size), port, v));
    } else if (v != size_mask(size) && (commands_ & 3) == 0 && unassigned(board_.machine().io(), port, size)) {
        // Nothing decodes the port: all-ones, as on the real bus, in QEMU and in our CPU paths.
        fail(fmt::format("in{} 0x{:x}: unassigned port read 0x{:x}, not all-ones", size_letter(size), port, v));
    }
    return v;
}

void Fuzzer::out(uint64_t port, uint64_t value, unsigned size) {
    const std::string reply = cmd(fmt::format("out{} 0x{:x} 0x{:x}", size_letter(size), port, value & size_mask(size)));
    if (reply != "OK\n") fail(fmt::format("out{} 0x{:x}: reply '{}'", size_letter(size), port, reply));
}

uint64_t Fuzzer::reg_read(const Window& w, uint64_t offset, unsigned size) {
    if (w.io) return in(w.base + offset, size > 4 ? 4 : size);
    return read(w.base + offset, size);
}

void Fuzzer::reg_write(const Window& w, uint64_t offset, uint64_t value, unsigned size) {
    if (w.io) size = size > 4 ? 4 : size;
    value = sanitize(w.base + offset, value, size);
    if (w.io) {
        out(w.base + offset, value, size);
    } else {
        write(w.base + offset, value, size);
    }
}

void Fuzzer::plant(uint64_t addr, const std::vector<uint8_t>& bytes) {
    if (bytes.empty()) return;
    if (addr < layout().window_base || addr + bytes.size() > layout().window_end()) {
        fail(fmt::format("fuzzer bug: plant of {} bytes at 0x{:x} outside the window", bytes.size(), addr));
        return;
    }
    std::string line = fmt::format("write 0x{:x} {} 0x", addr, bytes.size());
    line.reserve(line.size() + 2 * bytes.size());
    for (size_t i = 0; i < bytes.size(); i++) fmt::format_to(std::back_inserter(line), "{:02x}", sanitize_byte(addr + i, bytes[i]));
    if (cmd(line) != "OK\n") fail("write: not OK");
}

void Fuzzer::plant_u32(uint64_t addr, uint32_t v) {
    plant(addr, {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                 static_cast<uint8_t>(v >> 24)});
}

void Fuzzer::plant_u64(uint64_t addr, uint64_t v) {
    std::vector<uint8_t> b(8);
    for (unsigned i = 0; i < 8; i++) b[i] = static_cast<uint8_t>(v >> (8 * i));
    plant(addr, b);
}

void Fuzzer::fill(uint64_t addr, uint64_t len, uint8_t v) {
    if (addr < layout().window_base || addr + len > layout().window_end()) {
        fail(fmt::format("fuzzer bug: memset of {} bytes at 0x{:x} outside the window", len, addr));
        return;
    }
    // memset repeats one byte at every lane, so only a byte allowed at every lane is used.
    v = sanitize_byte(3, v);
    if (cmd(fmt::format("memset 0x{:x} {} 0x{:x}", addr, len, v)) != "OK\n") fail("memset: not OK");
}

uint64_t Fuzzer::clock_step(uint64_t ns) {
    const std::string reply = cmd(fmt::format("clock_step {}", ns));
    if (reply.compare(0, 3, "OK ") != 0) fail("clock_step: reply " + reply);
    return reply.size() > 4 ? std::strtoull(reply.c_str() + 3, nullptr, 10) : 0;
}

uint32_t Fuzzer::cfg_read(unsigned devfn, unsigned off, unsigned size) {
    out(0xcf8, 0x8000'0000u | devfn << 8 | (off & 0xfc), 4);
    return static_cast<uint32_t>(in(0xcfc + (off & 3), size));
}

void Fuzzer::cfg_write(unsigned devfn, unsigned off, uint32_t value, unsigned size) {
    out(0xcf8, 0x8000'0000u | devfn << 8 | (off & 0xfc), 4);
    out(0xcfc + (off & 3), value, size);
}

std::vector<Window> Fuzzer::assign_bars(unsigned devfn) {
    std::vector<Window> bars(6);
    // Each slot gets its own 16 MiB of the PCI hole and 256 I/O ports.
    uint64_t mem = 0xe000'0000ull + (devfn >> 3) * 0x0100'0000ull;
    uint64_t io = 0xc000 + (devfn >> 3) * 0x100;
    cfg_write(devfn, 0x04, 0, 2);
    for (unsigned i = 0; i < 6; i++) {
        const unsigned off = 0x10 + 4 * i;
        cfg_write(devfn, off, 0xffff'ffff, 4);
        const uint32_t probe = cfg_read(devfn, off, 4);
        if (probe == 0 || probe == 0xffff'ffff) continue;
        if (probe & 1) {
            const uint64_t size = (~(probe & ~3u) + 1) & 0xffff;
            if (!size) continue;
            io = (io + size - 1) & ~(size - 1);
            cfg_write(devfn, off, static_cast<uint32_t>(io), 4);
            bars[i] = Window{true, io, size, {}};
            io += size;
            continue;
        }
        const bool is64 = ((probe >> 1) & 3) == 2;
        uint64_t mask = probe & ~0xfull;
        if (is64) {
            cfg_write(devfn, off + 4, 0xffff'ffff, 4);
            mask |= static_cast<uint64_t>(cfg_read(devfn, off + 4, 4)) << 32;
        } else {
            mask |= 0xffff'ffff'0000'0000ull;
        }
        const uint64_t size = ~mask + 1;
        if (!size || size > 0x0100'0000) continue;
        mem = (mem + size - 1) & ~(size - 1);
        cfg_write(devfn, off, static_cast<uint32_t>(mem), 4);
        if (is64) cfg_write(devfn, off + 4, 0, 4);
        bars[i] = Window{false, mem, size, {}};
        mem += size;
        if (is64) i++;
    }
    cfg_write(devfn, 0x04, 0x0007, 2);  // I/O, memory, bus master
    return bars;
}

void Fuzzer::op_register(const Window& w) {
    if (!w.size) return;
    unsigned sz = size();
    uint64_t off;
    if (!w.regs.empty() && u(4)) {
        off = w.regs[u(w.regs.size())] + (one_in(4) ? u(4) : 0);
    } else {
        off = u(w.size);
    }
    if (u(4)) off &= ~static_cast<uint64_t>(sz - 1);
    // Mostly inside the window; sometimes across its end.
    if (off + sz > w.size && u(4)) off = w.size - sz;
    if (one_in(16)) {
        op_bulk(w);
    } else if (u(2)) {
        (void)reg_read(w, off, sz);
    } else {
        reg_write(w, off, value(), sz);
    }
}

void Fuzzer::op_config(unsigned devfn) {
    const unsigned sz = 1u << u(3);
    const unsigned off = static_cast<unsigned>(u(256)) & ~(sz - 1);
    if (u(2)) {
        (void)cfg_read(devfn, off, sz);
    } else {
        cfg_write(devfn, off, static_cast<uint32_t>(sanitize(off, value(), sz)), sz);
    }
}

void Fuzzer::op_bar_or_command(unsigned devfn) {
    // Places where a BAR collides with something: RAM, ECAM, the ROM, the APIC window, other
    // slots' BARs; and for I/O BARs the legacy ports, PCI config itself and other slots.
    static const uint32_t kMemSpots[] = {0x0000'0000, 0x0010'0000, 0xb000'0000, 0xfffc'0000, 0xfec0'0000,
                                         0xe000'0000, 0xe200'0000, 0xe400'0000, 0xe500'0000, 0xe700'0000};
    static const uint32_t kIoSpots[] = {0x0020, 0x0060, 0x0070, 0x0092, 0x03f8, 0x0cf8, 0xc000, 0xc400, 0xc500};
    const unsigned bar = static_cast<unsigned>(u(6));
    const unsigned off = 0x10 + 4 * bar;
    switch (u(4)) {
        case 0: cfg_write(devfn, 0x04, static_cast<uint32_t>(u(8) | (one_in(4) ? 0x400 : 0)), 2); break;
        case 1: {
            const uint32_t v = one_in(2) ? static_cast<uint32_t>(0xe000'0000 + u(0x0400'0000)) : static_cast<uint32_t>(value());
            cfg_write(devfn, off, static_cast<uint32_t>(sanitize(off, v, 4)), 4);
            break;
        }
        case 2: {
            // Keep the BAR's type bits: write a colliding address in its own kind of space.
            const uint32_t cur = cfg_read(devfn, off, 4);
            const uint32_t v = (cur & 1) ? (kIoSpots[u(std::size(kIoSpots))] | 1) : kMemSpots[u(std::size(kMemSpots))];
            cfg_write(devfn, off, static_cast<uint32_t>(sanitize(off, v, 4)), 4);
            if (u(2)) cfg_write(devfn, 0x04, 0x0007, 2);
            break;
        }
        default: cfg_write(devfn, 0x04, 0x0007, 2); break;
    }
}

void Fuzzer::op_bulk(const Window& w) {
    // qtest's byte-wise read/write/memset on a device window: odd sizes and offsets, side effects.
    if (w.io || !w.size) return;
    const uint64_t off = u(w.size), n = 1 + u(32);
    switch (u(3)) {
        case 0: {
            const std::string reply = cmd(fmt::format("read 0x{:x} {}", w.base + off, n));
            if (reply.size() != 6 + 2 * n || reply.compare(0, 5, "OK 0x") != 0) fail("read: reply " + reply);
            break;
        }
        case 1: {
            std::string line = fmt::format("write 0x{:x} {} 0x", w.base + off, n);
            for (uint64_t i = 0; i < n; i++) fmt::format_to(std::back_inserter(line), "{:02x}", sanitize_byte(w.base + off + i, static_cast<uint8_t>(bits())));
            if (cmd(line) != "OK\n") fail("write: not OK");
            break;
        }
        default:
            if (cmd(fmt::format("memset 0x{:x} {} 0x{:x}", w.base + off, n, sanitize_byte(3, static_cast<uint8_t>(bits())))) != "OK\n") {
                fail("memset: not OK");
            }
    }
}

void Fuzzer::op_scribble(uint64_t area, uint64_t area_size) {
    const uint64_t at = area + u(area_size);
    uint64_t len = one_in(8) ? u(1024) : 1 + u(64);
    len = std::min(len, layout().window_end() - at);
    if (one_in(4)) {
        fill(at, len, static_cast<uint8_t>(u(2) ? 0 : bits()));
        return;
    }
    std::vector<uint8_t> b(len);
    for (auto& x : b) x = static_cast<uint8_t>(u(3) ? u(3) : bits());
    plant(at, b);
}

void Fuzzer::op_clock() {
    switch (u(6)) {
        case 0: {
            // To the next deadline: what a driver waiting for a timer sees.
            const std::string reply = cmd("clock_step");
            if (reply.compare(0, 3, "OK ") != 0) fail("clock_step: " + reply);
            break;
        }
        case 1: clock_step(u(10'000'000'000ull)); break;
        case 2: clock_step(1ull << u(40)); break;
        case 3: {
            // clock_set to a time in the past (ignored) or the future.
            const std::string reply = cmd(fmt::format("clock_set {}", u(2) ? u(1'000'000'000) : bits() >> 8));
            if (reply.compare(0, 3, "OK ") != 0) fail("clock_set: " + reply);
            break;
        }
        default: clock_step(u(2'000'000)); break;
    }
}

void Fuzzer::op_malformed() {
    static const char* const kLines[] = {
        "readl", "writel 0x10", "writeb 0xzz 1", "inb 0x10000", "outl 70000 1", "read 0x0 0",
        "read 0x0 99999999999", "memset 0x0", "clock_step -1", "clock_step 0x", "frobnicate",
        "readq 18446744073709551616", "outb 0x80", "inw -1", "write 0x10 4 0xqq", "clock_set x",
        "writeq 0x0 0x1 0x2 extra junk", "read 0x1 16777217",
    };
    const std::string line = kLines[u(std::size(kLines))];
    const std::string reply = cmd(line);
    // Extra words are ignored (as QEMU does); everything else is an error.
    if (line.rfind("writeq 0x0", 0) != 0 && reply.compare(0, 5, "FAIL ") != 0) {
        fail(fmt::format("'{}' should fail, got '{}'", line, reply));
    }
}

void Fuzzer::check_guard() {
    const uint64_t h = board_.guard_hash();
    if (h != guard_) fail("a device wrote RAM outside the DMA window (or the ROM)");
}

RunResult run_target(const Target& t, uint64_t ops, uint64_t seed, std::vector<std::string>* record, bool check_coverage) {
    RunResult r;
    const auto start = std::chrono::steady_clock::now();
    QtestBoard board(t.arch, t.machine, t.devices);
    if (!board.error().empty()) {
        r.failure = "board: " + board.error();
        return r;
    }
    board.set_recorder(record);
    Fuzzer fz(board, seed);
    std::unique_ptr<DeviceDriver> drv = t.make();
    drv->setup(fz);
    int resets = 0;
    uint64_t next_guard_check = 10'000;
    while (fz.commands() < ops && !fz.failed()) {
        drv->op(fz);
        if (board.resets() != resets) {
            // A reset is a legal outcome (0x92, 0x64, 0xcf9, the watchdog): bring the device up again.
            resets = board.resets();
            drv->setup(fz);
        }
        if (fz.commands() >= next_guard_check) {
            fz.check_guard();
            next_guard_check += 10'000;
        }
    }
    if (!fz.failed()) fz.check_guard();
    if (!fz.failed()) {
        // Reset the machine the way a guest does, then a scripted transaction must work.
        board.machine().reset();
        drv->setup(fz);
        drv->check_works(fz);
    }
    if (!fz.failed() && check_coverage) {
        const std::string c = drv->coverage_failure();
        if (!c.empty()) fz.fail("coverage: " + c);
    }
    r.failure = fz.failure();
    r.commands = fz.commands();
    r.resets = board.resets();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace corvid::fuzz
