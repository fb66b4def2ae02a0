// The x86 differential fuzzing loop (see diff_driver.h).
#include "tests/x86_diff/diff_driver.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "tests/x86_diff/corvid_runner.h"
#include "tests/x86_diff/insn_generator.h"
#include "tests/x86_diff/known_bugs.h"
#include "tests/x86_diff/unicorn_runner.h"

namespace corvid::x86diff {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

constexpr size_t kMaxBytes = 64;
// Unicorn's instruction budget: more than the longest case (rep string ops count each
// iteration); a case that exhausts it loops in the test code and is not comparable.
constexpr unsigned kUnicornBudget = 64;

// Everything one fuzzing session owns: the shared code area and the three machines.
struct Rig {
    Rig() : code(kCodeSize, kHltByte) {
        uc = std::make_unique<UnicornRunner>(code.data());
        interp = std::make_unique<CorvidRunner>(CorvidBackend::kInterp, code.data());
        jit = std::make_unique<CorvidRunner>(CorvidBackend::kJit, code.data());
    }

    void load(const std::vector<uint8_t>& bytes) {
        uint8_t* slot = code.data() + (kSlot - kCodeBase);
        std::memset(slot, kHltByte, kMaxBytes);
        std::memcpy(slot, bytes.data(), std::min(bytes.size(), kMaxBytes));
        uc->code_changed(kSlot, kMaxBytes);
        interp->code_changed(kSlot, kMaxBytes);
        jit->code_changed(kSlot, kMaxBytes);
    }

    void poke(const std::vector<Poke>& pokes) {
        for (const Poke& p : pokes) {
            if (p.addr < kDataBase || p.addr + 8 > kDataBase + kDataSize) continue;
            for (uint8_t* d : {uc->data(), interp->data(), jit->data()})
                std::memcpy(d + (p.addr - kDataBase), &p.value, 8);
        }
    }

    // Unicorn's data window is the reference: copy it to both Corvid machines.
    void resync_data() {
        std::memcpy(interp->data(), uc->data(), kDataSize);
        std::memcpy(jit->data(), uc->data(), kDataSize);
    }

    void restart_unicorn() {
        std::vector<uint8_t> saved(uc->data(), uc->data() + kDataSize);
        uc = std::make_unique<UnicornRunner>(code.data());
        std::memcpy(uc->data(), saved.data(), kDataSize);
    }

    void fill_data(uint64_t seed) {
        std::mt19937_64 rng(seed);
        for (uint64_t i = 0; i < kDataSize; i += 8) {
            const uint64_t v = rng();
            std::memcpy(uc->data() + i, &v, 8);
        }
        resync_data();
    }

    std::vector<uint8_t> code;
    std::unique_ptr<UnicornRunner> uc;
    std::unique_ptr<CorvidRunner> interp;
    std::unique_ptr<CorvidRunner> jit;
    uint64_t unicorn_restarts = 0;
};

std::string describe_code(CorvidRunner& r, const TestCase& tc) {
    std::string s;
    size_t off = 0;
    for (size_t i = 0; i < tc.lengths.size(); ++i) {
        std::string hex;
        for (size_t k = 0; k < tc.lengths[i]; ++k) hex += fmt::format("{:02x} ", tc.bytes[off + k]);
        size_t len = 0;
        const std::string dis = r.frontend().disassemble(kSlot + off, tc.bytes.data() + off, tc.lengths[i], &len);
        s += fmt::format("    {:<36} {:<40} [{}]\n", hex, dis, tc.rows[i]);
        off += tc.lengths[i];
    }
    return s;
}

std::string describe_state(const ArchState& s) {
    std::string out;
    for (int i = 0; i < 16; ++i)
        out += fmt::format("{}=0x{:x}{}", kRegNames[i], s.regs[i], i % 6 == 5 ? "\n      " : " ");
    out += fmt::format("rip=0x{:x} rflags=0x{:x}", s.rip, s.rflags);
    return out;
}

std::string flag_names(uint64_t f) {
    static const std::pair<uint64_t, const char*> kNames[] = {{1, "CF"},    {4, "PF"},     {0x10, "AF"}, {0x40, "ZF"},
                                                              {0x80, "SF"}, {0x400, "DF"}, {0x800, "OF"}};
    std::string s;
    for (const auto& [bit, name] : kNames) {
        if (f & bit) s += std::string(s.empty() ? "" : " ") + name;
    }
    return s;
}

// Differences between Unicorn's outcome and one Corvid backend's; empty when they agree.
std::string compare(const TestCase& tc, const Outcome& want, const Outcome& got, const uint8_t* want_data,
                    const uint8_t* got_data) {
    std::string d;
    if (got.fault.rfind("corvid ERROR", 0) == 0) return "    " + got.fault + "\n";
    if (want.kind != got.kind) {
        auto what = [](const Outcome& o) { return o.kind == Outcome::Kind::kOk ? std::string("no fault") : o.fault; };
        d += fmt::format("    fault: expected [{}] got [{}]\n", what(want), what(got));
        if (want.kind == Outcome::Kind::kOk) d += fmt::format("    expected end rip 0x{:x}\n", want.state.rip);
        return d;
    }
    if (want.kind == Outcome::Kind::kFault) return d;  // both faulted: state not compared
    for (int i = 0; i < 16; ++i) {
        const uint64_t m = (tc.low32_regs & (1u << i)) ? 0xffffffffull : ~0ull;
        if (((want.state.regs[i] ^ got.state.regs[i]) & m) != 0 && !(tc.undefined_regs & (1u << i))) {
            d += fmt::format("    {}: expected 0x{:x} got 0x{:x}\n", kRegNames[i], want.state.regs[i],
                             got.state.regs[i]);
        }
    }
    if (want.state.rip != got.state.rip)
        d += fmt::format("    rip: expected 0x{:x} got 0x{:x}\n", want.state.rip, got.state.rip);
    const uint64_t fdiff = (want.state.rflags ^ got.state.rflags) & tc.flag_mask & kComparedFlags;
    if (fdiff) {
        d += fmt::format("    rflags: expected 0x{:x} got 0x{:x} (differ in {}; compared {})\n", want.state.rflags,
                         got.state.rflags, flag_names(fdiff), flag_names(tc.flag_mask & kComparedFlags));
    }
    if (std::memcmp(want_data, got_data, kDataSize) != 0) {
        int shown = 0;
        for (uint64_t i = 0; i < kDataSize && shown < 16; ++i) {
            if (want_data[i] != got_data[i]) {
                d += fmt::format("    mem[0x{:x}]: expected 0x{:02x} got 0x{:02x}\n", kDataBase + i, want_data[i],
                                 got_data[i]);
                ++shown;
            }
        }
    }
    return d;
}

// Unicorn ended normally on a HLT outside the test code (not by running out of budget inside
// it, which a loop does, nor anywhere else).
bool unicorn_reached_hlt(const Rig& rig, const TestCase& tc, const Outcome& want) {
    if (want.kind != Outcome::Kind::kOk) return true;
    const uint64_t h = want.state.rip - 1;
    if (h < kCodeBase || h >= kCodeBase + kCodeSize || rig.code[h - kCodeBase] != kHltByte) return false;
    return h >= kSlot + tc.bytes.size() || h < kSlot;
}

std::string rows_of(const TestCase& tc) {
    std::string s;
    for (const auto& r : tc.rows) s += (s.empty() ? "" : " ; ") + r;
    return s;
}

// The primary opcode key (map << 8 | op) of a case's first instruction.
uint16_t first_op_key(const TestCase& tc) {
    const InsnShape sh = shape_of(tc.bytes.data(), tc.lengths.empty() ? 0 : tc.lengths[0]);
    return uint16_t(sh.map << 8 | sh.op);
}

// POPCNT's reference outcome (Unicorn 2.0.1 has no POPCNT): the destination gets the bit count
// of the source, ZF = (source == 0), the other arithmetic flags are cleared.
Outcome popcnt_reference(const TestCase& tc, const uint8_t* data) {
    Outcome out;
    out.state = tc.init;
    const unsigned size = tc.popcnt_size;
    const uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    uint64_t src = 0;
    if (tc.popcnt_src >= 0) {
        src = tc.init.regs[tc.popcnt_src] & mask;
    } else if (tc.popcnt_addr >= kDataBase && tc.popcnt_addr + size <= kDataBase + kDataSize) {
        std::memcpy(&src, data + (tc.popcnt_addr - kDataBase), size);
    } else {
        out.kind = Outcome::Kind::kFault;
        out.fault = "reference: popcnt memory operand outside the data window";
        return out;
    }
    const uint64_t n = uint64_t(__builtin_popcountll(src));
    uint64_t& d = out.state.regs[tc.popcnt_dst];
    d = size == 2 ? ((d & ~0xffffull) | n) : n;
    out.state.rflags = (tc.init.rflags & ~uint64_t(0x8d5)) | (src == 0 ? 0x40 : 0);
    out.state.rip = kSlot + tc.bytes.size() + 1;  // past the HLT that follows
    return out;
}

// The expected outcome: Unicorn's, except where it is known not to be a reference.
Outcome reference_run(Rig& rig, const TestCase& tc) {
    if (tc.lock_invalid) {
        // LOCK on a non-lockable instruction: Unicorn 2.0.1 executes some of these (imul,
        // cmovcc, bsf, ...) and aborts the whole process on others (lock cmp m, r: "tcg fatal
        // error"), so it is not run; the SDM requires #UD.
        Outcome ud;
        ud.kind = Outcome::Kind::kFault;
        ud.undefined_opcode = true;
        ud.fault = "reference: #UD (LOCK on a non-lockable instruction)";
        return ud;
    }
    Outcome want = rig.uc->run(tc.init, kUnicornBudget);
    if (want.kind == Outcome::Kind::kOk && want.state.rip == tc.init.rip) {
        // Unicorn 2.0.1 sometimes reports success without executing anything (seen for #UD
        // encodings after an earlier UC_ERR_EXCEPTION case). Nothing the generator makes ends
        // at its start (no branch targets kSlot - 1), so start a fresh engine and run again.
        ++rig.unicorn_restarts;
        rig.restart_unicorn();
        rig.load(tc.bytes);
        want = rig.uc->run(tc.init, kUnicornBudget);
    }
    if (tc.popcnt && want.undefined_opcode) want = popcnt_reference(tc, rig.uc->data());
    return want;
}

}  // namespace

uint64_t case_seed(uint64_t seed, uint32_t shard, uint64_t index) {
    return splitmix64(splitmix64(seed) ^ (uint64_t(shard) << 48) ^ index);
}

FuzzResult run_fuzz(const FuzzOptions& o) {
    FuzzResult res;
    Rig rig;
    if (!rig.uc->ok()) {
        res.setup_error = rig.uc->error();
        return res;
    }
    const InsnGenerator gen;
    rig.fill_data(splitmix64(o.seed ^ o.shard));
    size_t printed = 0;
    // CORVID_DIFF_TRACE=1 names every case before it runs (to find one that crashes a side).
    const bool trace = std::getenv("CORVID_DIFF_TRACE") != nullptr;
    for (uint64_t i = 0; i < o.count; ++i) {
        const uint64_t cs = case_seed(o.seed, o.shard, i);
        const TestCase tc = gen.make_case(cs);
        if (trace) {
            std::string hex;
            for (uint8_t b : tc.bytes) hex += fmt::format("{:02x} ", b);
            fmt::print(stderr, "case {} 0x{:x}: {}[{}]\n", i, cs, hex, rows_of(tc));
        }
        rig.load(tc.bytes);
        rig.poke(tc.pokes);
        ++res.cases;
        res.instructions += tc.lengths.size();

        Outcome want = reference_run(rig, tc);
        if (!unicorn_reached_hlt(rig, tc, want)) {
            ++res.unverifiable;
            rig.resync_data();
            continue;
        }
        ArchState corvid_init = tc.init;
        for (auto& r : corvid_init.regs) r ^= o.inject_xor;
        const Outcome got_i = rig.interp->run(corvid_init);
        const Outcome got_j = rig.jit->run(corvid_init);
        if (trace) {
            fmt::print(stderr, "  unicorn {} rip 0x{:x}; interp {} rip 0x{:x}\n", want.fault, want.state.rip,
                       got_i.fault, got_i.state.rip);
        }

        const bool ok = want.kind == Outcome::Kind::kOk;
        const bool ud_i = got_i.kind == Outcome::Kind::kFault && got_i.undefined_opcode;
        const bool ud_j = got_j.kind == Outcome::Kind::kFault && got_j.undefined_opcode;
        std::string di, dj;
        if (tc.lock_invalid) {
            // LOCK on an instruction that does not allow it: Corvid must raise #UD.
            if (ud_i && ud_j) {
                ++res.both_faulted;
                rig.resync_data();
                continue;
            }
            auto lock_diff = [&](const Outcome& got) {
                if (got.fault.rfind("corvid ERROR", 0) == 0) return "    " + got.fault + "\n";
                if (got.kind == Outcome::Kind::kFault && got.undefined_opcode) return std::string();
                return fmt::format("    LOCK on a non-lockable instruction: expected #UD got [{}]\n",
                                   got.kind == Outcome::Kind::kOk ? "no fault" : got.fault);
            };
            di = lock_diff(got_i);
            dj = lock_diff(got_j);
        } else if (tc.probe || tc.fault_only) {
            // Both must fault; Unicorn running it where Corvid raises #UD is a missing instruction.
            if (ok && ud_i && ud_j && !tc.required) {
                ++res.unimplemented;
                ++res.unimplemented_by_row[rows_of(tc)];
                rig.resync_data();
                continue;
            }
            auto fault_diff = [&](const Outcome& got) {
                if (got.fault.rfind("corvid ERROR", 0) == 0) return "    " + got.fault + "\n";
                if (want.kind == Outcome::Kind::kFault && got.kind == Outcome::Kind::kFault) return std::string();
                return fmt::format("    fault-only case: expected [{}] got [{}]\n", ok ? "no fault" : want.fault,
                                   got.kind == Outcome::Kind::kOk ? "no fault" : got.fault);
            };
            di = fault_diff(got_i);
            dj = fault_diff(got_j);
        } else if (ok && ud_i && ud_j && !tc.required) {
            ++res.unimplemented;
            ++res.unimplemented_by_row[rows_of(tc)];
            rig.resync_data();
            continue;
        } else {
            di = compare(tc, want, got_i, rig.uc->data(), rig.interp->data());
            dj = compare(tc, want, got_j, rig.uc->data(), rig.jit->data());
        }
        if (di.empty() && dj.empty()) {
            if (want.kind == Outcome::Kind::kOk && !tc.fault_only) {
                ++res.compared;
                ++res.compared_by_row[tc.rows[0]];
                res.compared_ops.insert(first_op_key(tc));
            } else {
                ++res.both_faulted;
                rig.resync_data();
            }
        } else {
            const KnownBug* bug = find_known_bug(tc.bytes, tc.lengths);
            const std::string text =
                fmt::format("(seed 0x{:x} shard {} case {}; replay: CORVID_DIFF_REPLAY=0x{:x})\n{}  initial: {}\n",
                            o.seed, o.shard, i, cs, describe_code(*rig.interp, tc), describe_state(tc.init));
            std::string details;
            if (want.kind == Outcome::Kind::kOk) details += "  unicorn: " + describe_state(want.state) + "\n";
            if (!di.empty()) details += "  interp differs:\n" + di;
            if (!dj.empty()) details += "  jit differs:\n" + dj;
            if (bug) {
                ++res.known_bug_hits;
                if (res.known_by_id[bug->id]++ == 0)
                    res.known_report += fmt::format("KNOWN BUG {} {}{}", bug->id, text, details);
            } else {
                ++res.mismatches;
                ++res.mismatches_by_row[rows_of(tc)];
                if (printed < o.max_printed) {
                    ++printed;
                    res.report += "MISMATCH " + text + details;
                }
            }
            // Re-synchronise the data windows so that one bug does not cascade.
            rig.resync_data();
        }
        if (o.verbose) {
            res.report += fmt::format("case 0x{:x}\n{}  initial: {}\n  unicorn: {} {}\n  interp: {} {}\n  jit: {} {}\n",
                                      cs, describe_code(*rig.interp, tc), describe_state(tc.init),
                                      describe_state(want.state), want.fault, describe_state(got_i.state), got_i.fault,
                                      describe_state(got_j.state), got_j.fault);
        }
    }
    res.unicorn_restarts = rig.unicorn_restarts;
    return res;
}

std::string replay_case(uint64_t cs) {
    Rig rig;
    if (!rig.uc->ok()) return rig.uc->error();
    const InsnGenerator gen;
    const TestCase tc = gen.make_case(cs);
    rig.fill_data(cs);
    rig.load(tc.bytes);
    rig.poke(tc.pokes);
    const std::vector<uint8_t> before(rig.uc->data(), rig.uc->data() + kDataSize);
    const Outcome want = reference_run(rig, tc);
    const Outcome got_i = rig.interp->run(tc.init);
    const Outcome got_j = rig.jit->run(tc.init);
    std::string s =
        fmt::format("case 0x{:x}\n{}  initial: {}\n  compared flags: {}\n", cs, describe_code(*rig.interp, tc),
                    describe_state(tc.init), flag_names(tc.flag_mask & kComparedFlags));
    s += fmt::format("  unicorn: {} {}\n  interp:  {} {}\n  jit:     {} {}\n", describe_state(want.state), want.fault,
                     describe_state(got_i.state), got_i.fault, describe_state(got_j.state), got_j.fault);
    int shown = 0;
    for (uint64_t i = 0; i < kDataSize && shown < 32; ++i) {
        const uint8_t a = before[i], u = rig.uc->data()[i], c = rig.interp->data()[i], j = rig.jit->data()[i];
        if (a != u || a != c || a != j) {
            s += fmt::format("  mem[0x{:x}]: before 0x{:02x} unicorn 0x{:02x} interp 0x{:02x} jit 0x{:02x}\n",
                             kDataBase + i, a, u, c, j);
            ++shown;
        }
    }
    s += "  interp differences:\n" + compare(tc, want, got_i, rig.uc->data(), rig.interp->data());
    s += "  jit differences:\n" + compare(tc, want, got_j, rig.uc->data(), rig.jit->data());
    return s;
}

}  // namespace corvid::x86diff
