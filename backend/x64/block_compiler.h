// Translates one IR block into x86-64 code with asmjit: register allocation, opcode selection,
// softmmu fast paths, exits. Internal to backend/x64 (the public face is x64_backend.h).
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/x64/x64_backend.h"
#include "base/result.h"
#include "translator/backend.h"
#include "translator/cpu.h"
#include "translator/ir/ir.h"

namespace corvid::x64 {

namespace ax = asmjit::x86;
using ir::ValueId;

// The guest CPU state (CpuCommon at offset 0) lives in r15 for the whole run.
inline constexpr uint32_t kCpuRegId = 15;
// Scratch registers never given to IR values: rax, rcx, rdx (div, shifts, TLB, call setup).
inline constexpr uint32_t kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7;

// Stack frame set up once by the trampoline and shared by every block of a run:
// [rsp + 8*k] spill slot k, then a 16-register save area for the cold slow paths.
inline constexpr int kSpillSlots = 512;
inline constexpr int kSaveAreaOffset = kSpillSlots * 8;
inline constexpr int kFrameSize = kSaveAreaOffset + 16 * 8 + 8;  // rsp % 16 == 0 after 6 pushes
static_assert(kFrameSize % 16 == 8);

// How the trampoline's caller decodes an exit: rax = TranslatedBlock*, rdx = packed below.
constexpr uint64_t pack_exit(ExitKind kind, unsigned slot, uint32_t cause) {
    return uint64_t(kind) | (uint64_t(slot) << 8) | (uint64_t(cause) << 32);
}
// cpu->jit_scratch index holding ExitException's detail.
inline constexpr unsigned kScratchDetail = 3;


// One entry of the indirect-jump lookup table (ExitJump / ExitReturn), read by generated code.
// An entry is only followed while the cpu has the block's mode and the same TLB generation as
// when the engine last entered the block (CpuCommon::tlb_generation: no mapping has changed
// since), so remaps and mode switches need no table maintenance; invalidation drops the entry
// at once (invalidated()). Unlike a TLB probe, this survives the eviction of the code page's
// TLB entry by data accesses.
struct JumpEntry {
    uint64_t pc;
    void* code;  // the block's code (unique until the buffer is flushed)
    uint32_t mode;
    uint32_t generation;
    uint64_t pad = 0;
};
static_assert(sizeof(JumpEntry) == 32);
inline constexpr unsigned kJumpTableBits = 12;
inline constexpr uint32_t kJumpTableMask = (1u << kJumpTableBits) - 1;
// Index from the pc bits above the instruction alignment (4 on AArch64; x86 targets 4 bytes
// apart share an entry, which only costs a miss). Generated code computes the entry's byte
// offset as (pc & (mask << 2)) * 8.
constexpr uint32_t jump_hash(uint64_t pc) { return uint32_t(pc >> 2) & kJumpTableMask; }

// The data of a cold stub, after its code (see Thunks in x64_backend.h).
struct ExitStubData {
    uint64_t tb;
    uint64_t pc;
    uint64_t packed;  // pack_exit()
};
static_assert(sizeof(ExitStubData) == 24);

// Read by the slow-path glue with memcpy (the data follows the stub's code: no alignment).
struct SlowStubData {
    uint64_t pc;
    uint64_t imm;     // store value when value_reg == kNoReg
    uint32_t flags;   // IR memory flags
    uint8_t addr_reg;
    uint8_t value_reg;  // load: destination; store: source (or kNoReg: imm)
    uint8_t type;       // load: ir::Type of the result (the helper's value is truncated to it)
    uint8_t pad = 0;
    static constexpr uint8_t kNoReg = 0xff;
};
static_assert(sizeof(SlowStubData) == 24);

// Registers the allocator hands out (REGALLOC.md); the slow-path thunks save and restore them.
inline constexpr uint8_t kAllocatableRegs[] = {kRbx, kRbp, kRsi, kRdi, 8, 9, 10, 11, 12, 13, 14};

struct CompileEnv {
    uint64_t exit_addr = 0;  // trampoline epilogue (absolute)
    Thunks thunks;
    const JumpEntry* jump_table = nullptr;
    bool count_insns = false;
    bool has_popcnt = true;  // x86-64 baseline (v1) does not guarantee POPCNT
    bool return_hints = true;  // PushReturnHint / ExitReturn use the return-stack hint ring
};

// Output besides the code: patch sites that need the final address.
struct CompileOutput {
    struct AbsJump {
        uint32_t rel_off;  // offset of a rel32 field in the block
        uint64_t target;   // absolute destination
    };
    std::vector<AbsJump> abs_jumps;
    unsigned num_sites = 0;
    uint32_t site_off[2] = {0, 0};  // offsets of the patchable rel32 fields (4-aligned)
    uint32_t stub_off[2] = {0, 0};  // where an unlinked site jumps
    // The call's return-stack hint (PushReturnHint): an 8-aligned imm64 holding the host code
    // its return goes to, patched by link()/unlink() of kReturnSlot; unlinked: ret_stub_off.
    // ret_probe_off probes the indirect-jump table instead, for returns that cannot be linked
    // (ret_linkable false: on another page than the block).
    bool has_ret_site = false;
    bool ret_linkable = false;
    uint32_t ret_site_off = 0;
    uint32_t ret_stub_off = 0, ret_probe_off = 0;
    std::vector<uint32_t> inst_offsets;  // hot-code offset of each IR inst, plus the end
    uint32_t entry_end = 0;              // end of the block-entry check

    // For the next block (keeps the vectors' storage).
    void reset() {
        abs_jumps.clear();
        num_sites = 0;
        site_off[0] = site_off[1] = stub_off[0] = stub_off[1] = 0;
        has_ret_site = ret_linkable = false;
        ret_site_off = ret_stub_off = ret_probe_off = 0;
        inst_offsets.clear();
        entry_end = 0;
    }
};

// Keeps the first asmjit error of a compile.
class AsmErrorSink : public asmjit::ErrorHandler {
public:
    void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter*) override {
        if (error == asmjit::kErrorOk) {
            error = err;
            text = message;
        }
    }
    asmjit::Error error = asmjit::kErrorOk;
    std::string text;
};

// Out-of-line code emitted after the block body (slow paths and exit stubs).
struct ColdStub {
    enum class Kind : uint8_t { kExitRequest, kLink, kSlowLoad, kSlowStore, kReturnLink, kReturnProbe };
    Kind kind = Kind::kExitRequest;
    int32_t jcc_field = -1;     // the rel32 of the `jne` that reaches it (patched once placed)
    uint32_t back = 0;          // slow paths: offset where the block continues
    uint8_t addr = 0, dst = 0;  // host registers of the address / the load result
    ir::Type type = ir::Type::Void;
    unsigned slot = 0, size = 0;
    asmjit::Operand value;      // store value (register or immediate)
    uint64_t flags = 0, pc = 0;
};

// A fixed host-code sequence encoded once by asmjit and copied into blocks: the entry check
// and the TLB probe of each (address register, size, load/store), which end in a `jne rel32`
// to a cold stub (resolved when the stub is placed), the lookup-table probe, the exit-stub
// head and the guest-state accesses (their displacement replaced at each use).
struct CodeTemplate {
    uint8_t len = 0;    // 0: not built yet
    uint8_t field = 0;  // offset of the 4-byte field filled in at each use (0: none)
    uint8_t bytes[62];
};

// rcx = target pc: jumps to the lookup table's code for (pc, mode) if the entry is current
// (see JumpEntry), else falls through to `miss`. Clobbers `tmp` and rdx.
void emit_table_probe(asmjit::x86::Assembler& as, const JumpEntry* table, const asmjit::Label& miss,
                      const asmjit::x86::Gp& tmp);

// Per-compile working storage, owned by the backend so that compiles do not allocate.
struct CompileScratch {
    struct Known {
        uint64_t off;
        unsigned bytes;
        ir::Type type;
        ValueId v;
    };
    std::vector<ValueId> alias;
    std::vector<std::optional<uint64_t>> cval;
    std::vector<int32_t> last_use;
    std::vector<uint8_t> crosses_call;
    std::vector<uint16_t> uses;
    std::vector<uint8_t> fused;
    std::vector<int8_t> vreg;
    std::vector<int32_t> vslot;
    std::vector<int32_t> free_slots;
    std::vector<asmjit::Label> labels;
    std::vector<ColdStub> cold;
    std::vector<uint32_t> calls_before;
    std::vector<Known> known;
    std::vector<uint8_t> zbits;           // known significant bits per value (analyze)
    std::vector<uint8_t> skip;            // no code: folded, forwarded or unused (analyze)
    std::vector<int32_t> death_head, death_next;  // values freed after each instruction
    std::vector<uint8_t> flag_use;        // FlagUse per instruction (flag_fusion.cpp)
    std::vector<uint8_t> flag_cc;         // x86 condition of a kFlagReuse / kFlagBranch
    std::vector<uint16_t> flag_tmp;
    std::vector<int32_t> flag_owner;
    std::vector<uint8_t> flag_candidate;
    std::vector<uint32_t> flag_addcs, flag_branches, flag_sign_tests, flag_nots, flag_stores;
    std::vector<ValueId> flag_stack;
    std::vector<uint32_t> flag_prod;                       // producer of a kFlagReuse value
    std::vector<std::pair<uint32_t, uint32_t>> prezero;    // (producer, state offset), sorted
    size_t prezero_next = 0;                               // first entry not emitted yet
    // One CodeHolder and Assembler for many compiles: each block is assembled from offset 0 of
    // the same section (setting them up costs more than assembling a small block). Labels of
    // earlier blocks stay behind, bound and unused, until the periodic full reset.
    asmjit::CodeHolder code;
    std::unique_ptr<asmjit::x86::Assembler> as;
    AsmErrorSink errors;
    unsigned compiles_since_reset = 0;
    CompileOutput out;
    CodeTemplate entry_check;
    CodeTemplate tlb_probe[16][4][2];  // [address register][log2 size][store]
    CodeTemplate table_probe;          // emit_table_probe, falling through on a miss
    CodeTemplate exit_stub;            // lea rsi, [data]; jmp thunk (field: the jmp's rel32)
    // Guest-state loads/stores [r15 + disp32] by [register][log2 width][store] (field: the
    // displacement, replaced at each use).
    CodeTemplate state_access[16][4][2];
};

// How an instruction relates to the host flags (see flag_fusion.cpp).
enum FlagUse : uint8_t {
    kFlagNone,      // emitted normally
    kFlagProduce,   // an add-with-carry family op whose host add/sub leaves reusable flags
    kFlagsOnly,     // a kFlagProduce AddWithCarry whose value nothing reads (its users read
                    // the flags): a subtraction becomes `cmp`, an addition leaves rax unnamed
    kFlagReuse,     // computed from the flags (setcc / the result still in rax): no arithmetic
    kFlagDeferred,  // a node of a branch condition that the branch reads from the flags: no code
    kFlagAbsorbed,  // a Not subtracted by its add-with-carry users: no code
    kFlagBranch,    // BrCond/ExitCond whose condition is flag_cc
    kFlagToMemory,  // a kFlagReuse boolean only stored to guest state: no register, see below
    kFlagSetcc,     // SetState of a kFlagToMemory value: `setcc byte [state]`, the dword having
                    // been zeroed just before the producing instruction (CompileScratch::prezero)
};

// What the host flags describe at a point of the block (analysis only).
struct HostFlags {
    bool valid = false;
    bool arith = false;  // from an add-with-carry family op (a, b, cin): C and V are available
    bool sub = false;    // computed as a - x (b = ~x, cin = 1): the host CF is the inverted carry
    // Otherwise the emit_binop instruction that set them (Add, Sub: a and b are its operands;
    // And/Or/Xor: CF = OF = 0).
    ir::Opcode op = ir::Opcode::Const;
    ValueId a = ir::kNoValue, b = ir::kNoValue, cin = ir::kNoValue;
    unsigned bytes = 0;
    ValueId result = ir::kNoValue;  // the value whose SF/ZF the flags hold, if any
    uint32_t producer = ~0u;        // the instruction that set them
};

class BlockCompiler {
public:
    BlockCompiler(const CompileEnv& env, const ir::Block& block, TranslatedBlock& tb, ax::Assembler& as,
                  CompileScratch& scratch);
    Status compile(CompileOutput& out);

private:
    // ---- analysis (regalloc.cpp)
    void size_arrays(size_t n);
    void analyze();
    static constexpr uint8_t kUnknownBits = 0xff;
    uint8_t known_bits(ValueId v, uint8_t* zb, int depth) const;
    ValueId canon(ValueId v) const { return alias_[v]; }
    bool is_const(ValueId v) const { return cval_[canon(v)].has_value(); }
    uint64_t const_of(ValueId v) const { return *cval_[canon(v)]; }
    ir::Type type_of(ValueId v) const { return block_.insts[v].type; }

    // ---- host-flag reuse (flag_fusion.cpp)
    void analyze_flags(std::vector<uint16_t>& uses, bool any_cmp);
    bool emits_nothing(uint32_t i) const {
        const uint8_t fu = flag_use_[i];
        return scratch_.skip[i] || fu == kFlagDeferred || fu == kFlagAbsorbed || fu == kFlagToMemory;
    }
    void plan_flag_stores(const std::vector<uint16_t>& uses);
    void find_flags_only(const std::vector<uint32_t>& addcs);
    void emit_prezero(uint32_t i);
    asmjit::x86::CondCode flag_cond(ValueId v, const HostFlags& f, int depth) const;
    asmjit::x86::CondCode compare_cond(const ir::Inst& in, const HostFlags& f, int depth) const;
    // The Not absorbed into a subtraction: its operand, else kNoValue.
    ValueId absorbed_operand(ValueId v) const {
        v = canon(v);
        return flag_use_[v] == kFlagAbsorbed ? canon(block_.insts[v].args[0]) : ir::kNoValue;
    }

    // ---- register allocation (regalloc.cpp)
    void reset_regs();
    int alloc_reg(bool prefer_callee);
    void evict(int reg);
    int new_slot();
    void bind(ValueId v, int reg);
    asmjit::x86::Gp use_reg(ValueId arg);                       // 64-bit view, pinned
    asmjit::Operand use_any(ValueId arg, unsigned bytes, bool allow_imm = true);  // reg / mem / imm
    asmjit::x86::Gp def_reuse(uint32_t i, ValueId a);           // result register holding a
    asmjit::x86::Gp def_fresh(uint32_t i);                      // register free of operands
    asmjit::x86::Gp def_after(uint32_t i);                      // after operands were read
    void load_to(const asmjit::x86::Gp& dst, ValueId arg);      // zero-extended into a scratch
    void load_sx(const asmjit::x86::Gp& dst, ValueId arg);      // sign-extended from its type
    void plan_deaths();
    void end_inst(uint32_t i);
    void free_value(ValueId v);
    void evict_caller_saved(uint32_t i);
    asmjit::x86::Mem slot_mem(int slot, unsigned bytes) const;

    // ---- code (emit_alu.cpp, emit_mem.cpp, emit_exit.cpp)
    void emit_inst(uint32_t i);
    void emit_binop(uint32_t i, const ir::Inst& in);
    void emit_shift(uint32_t i, const ir::Inst& in);
    void emit_div(uint32_t i, const ir::Inst& in);
    void emit_mulhi(uint32_t i, const ir::Inst& in);
    void emit_unary(uint32_t i, const ir::Inst& in);
    void emit_bitrev(const asmjit::x86::Gp& d, ir::Type t);
    void emit_popcount_swar(const asmjit::x86::Gp& d);
    void emit_convert(uint32_t i, const ir::Inst& in);
    void emit_cmp(uint32_t i, const ir::Inst& in);
    void emit_flag_value(uint32_t i);  // setcc of flag_cc_[i] into the result
    void emit_select(uint32_t i, const ir::Inst& in);
    void emit_addc(uint32_t i, const ir::Inst& in);
    void emit_get_state(uint32_t i, const ir::Inst& in);
    void emit_set_state(const ir::Inst& in);
    void emit_load(uint32_t i, const ir::Inst& in);
    void emit_store(uint32_t i, const ir::Inst& in);
    void emit_call(uint32_t i, const ir::Inst& in);
    void emit_entry();
    void emit_exit_link(const ir::Inst& in);
    void emit_exit_cond(const ir::Inst& in);
    void emit_exit_indirect(const ir::Inst& in);
    void emit_push_return_hint(const ir::Inst& in);
    void emit_return_hint_pop();  // rcx = target pc (stored): follow the ring's top if it matches
    void emit_exit_exception(const ir::Inst& in);
    void emit_exit_halt(const ir::Inst& in);
    void emit_link_site(unsigned slot, uint64_t target_pc);
    void emit_cold(const ColdStub& c);
    // Copies `t` and makes `c` the target of its jne.
    void embed_template(const CodeTemplate& t, ColdStub& c);
    const CodeTemplate& tlb_template(unsigned reg, unsigned size, bool store);
    const CodeTemplate& entry_template();
    const CodeTemplate& table_probe_template();
    const CodeTemplate& exit_stub_template();
    // mov/movzx between host register `reg` (`bytes` wide) and the guest state at `off`.
    void emit_state_access(unsigned reg, unsigned bytes, bool store, int32_t off);
    void emit_slow_load(const ColdStub& c);
    void emit_slow_store(const ColdStub& c);
    void emit_exit_to_loop(ExitKind kind, unsigned slot, uint32_t cause);
    void emit_exit_stub(uint64_t thunk, uint64_t pc, uint64_t packed);
    void emit_slow_stub(uint64_t thunk, const SlowStubData& data, uint32_t back);
    void jmp_abs(uint64_t target);
    void store_pc_imm(uint64_t pc);
    void mov_imm(const asmjit::x86::Gp& dst, uint64_t v);
    void test_cond(ValueId cond);  // sets ZF = (cond == 0)
    // Condition code true when `cond` is non-zero (after emitting the test if needed).
    asmjit::x86::CondCode branch_cond(ValueId cond);
    void normalize(const asmjit::x86::Gp& d, ir::Type t);  // after a 32-bit op on i8/i16
    void fail(const char* message);

    const CompileEnv& env_;
    const ir::Block& block_;
    TranslatedBlock& tb_;
    ax::Assembler& as_;
    CompileOutput* out_ = nullptr;

    // analysis results, indexed by ValueId (storage in CompileScratch)
    // Per-value arrays (CompileScratch storage sized by size_arrays(); raw pointers because
    // they are read for every operand of every instruction).
    ValueId* alias_ = nullptr;
    std::optional<uint64_t>* cval_ = nullptr;
    int32_t* last_use_ = nullptr;
    uint8_t* crosses_call_ = nullptr;
    // A compare whose only use is the next BrCond/ExitCond: emitted as cmp + jcc, no setcc.
    uint8_t* fused_ = nullptr;
    asmjit::x86::CondCode fused_cc_ = asmjit::x86::CondCode::kE;
    uint8_t* flag_use_ = nullptr;
    uint8_t* flag_cc_ = nullptr;
    uint32_t cur_inst_ = 0;

    // allocation state
    int8_t* vreg_ = nullptr;
    int32_t* vslot_ = nullptr;
    ValueId rval_[16];
    uint32_t pinned_ = 0;
    std::vector<int32_t>& free_slots_;
    int32_t next_slot_ = 0;

    std::vector<asmjit::Label>& labels_;
    std::vector<ColdStub>& cold_;
    CompileScratch& scratch_;
    const char* error_ = nullptr;
};

// Register width helpers.
inline asmjit::x86::Gp gp_of(uint32_t id, unsigned bytes) {
    switch (bytes) {
        case 1: return ax::gpb(id);
        case 2: return ax::gpw(id);
        case 4: return ax::gpd(id);
        default: return ax::gpq(id);
    }
}
inline unsigned type_bytes(ir::Type t) { return ir::bit_width(t) / 8; }
// Width of the host operation for type t: i8/i16/i32 use 32-bit ops, i64 64-bit ones.
inline unsigned op_bytes(ir::Type t) { return t == ir::Type::I64 ? 8 : 4; }

}  // namespace corvid::x64
