// A64 "Loads and stores": single registers (all addressing forms), pairs, literals,
// load-acquire/store-release and the exclusive monitor.
#include "frontends/a64/a64_translator.h"

#include <cstddef>

namespace corvid::a64 {

using ir::Opcode;

namespace {

constexpr uint32_t kExclAddr = offsetof(A64State, excl_addr);
constexpr uint32_t kExclValue = offsetof(A64State, excl_value);
constexpr uint32_t kExclValue2 = offsetof(A64State, excl_value2);
constexpr uint32_t kExclValid = offsetof(A64State, excl_valid);
constexpr uint32_t kExclSize = offsetof(A64State, excl_size);
constexpr uint32_t kFaultVa = offsetof(A64State, fault_va);

enum class MemOp { kStore, kLoad, kLoadSigned64, kLoadSigned32, kPrefetch };

// Decodes size:opc of the single-register forms (V = 0). Returns false if unallocated.
bool classify(unsigned size, unsigned opc, MemOp* op) {
    switch (opc) {
        case 0: *op = MemOp::kStore; return true;
        case 1: *op = MemOp::kLoad; return true;
        case 2: *op = size == 3 ? MemOp::kPrefetch : MemOp::kLoadSigned64; return true;
        default:
            if (size >= 2) return false;
            *op = MemOp::kLoadSigned32;
            return true;
    }
}

// Raises the Alignment fault (FAR = Xn) unless Xn|SP is 16-byte aligned: the 128-bit
// exclusive pair is one single-copy atomic access, which the IR's alignment flag (at most 8
// bytes) cannot express. Values do not cross labels, so callers re-read Xn after this.
void check_align16(Translator& t, unsigned n, bool write) {
    auto& b = t.b;
    ValueId addr = t.x_sp(n, true);
    const uint32_t ok = b.new_label();
    b.br_cond(b.cmp(Opcode::CmpEq, b.and_(addr, b.c64(15)), b.c64(0)), ok);
    b.set_state(kFaultVa, addr);
    b.exit_exception(kCauseDataAbort, kFscAlignment | (write ? kIssWnR : 0));
    b.label(ok);
}

// Performs the access, then (memory first, state after: precise faults) the writeback and Rt.
void access(Translator& t, MemOp op, unsigned size, unsigned rt, ValueId addr, int wb_reg, ValueId wb_value) {
    auto& b = t.b;
    switch (op) {
        case MemOp::kPrefetch: break;
        case MemOp::kStore: {
            // W stores read the W register: a value written as W in this block is used as is.
            ValueId v = t.x(rt, size == 3);
            if (size < 2) v = b.trunc(size == 1 ? Type::I16 : Type::I8, v);
            b.store(addr, v, size | t.mem_flags());
            if (wb_reg >= 0) t.set_x_sp(unsigned(wb_reg), wb_value);
            return;
        }
        case MemOp::kLoad:
        case MemOp::kLoadSigned64:
        case MemOp::kLoadSigned32: {
            const bool is_signed = op != MemOp::kLoad;
            // Zero-extending loads of up to 32 bits produce an i32, so that a later W read of
            // Rt in this block (cmp w4, w3 after ldr w4) needs no truncation.
            Type type = op == MemOp::kLoadSigned32 || (op == MemOp::kLoad && size < 3) ? Type::I32 : Type::I64;
            ValueId v = b.load(type, addr, size | t.mem_flags() | (is_signed ? uint32_t(ir::kMemSigned) : 0u));
            if (wb_reg >= 0) t.set_x_sp(unsigned(wb_reg), wb_value);
            t.set_x(rt, v);
            return;
        }
    }
    if (wb_reg >= 0) t.set_x_sp(unsigned(wb_reg), wb_value);
}

}  // namespace

bool load_store_imm9(Translator& t, uint32_t insn) {
    const unsigned size = bits(insn, 31, 30), opc = bits(insn, 23, 22), idx = bits(insn, 11, 10);
    const unsigned n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    const int64_t offset = sign_extend(bits(insn, 20, 12), 9);
    MemOp op;
    if (!classify(size, opc, &op)) return false;
    if (op == MemOp::kPrefetch && idx != 0) return false;  // only PRFUM exists
    ValueId base = t.x_sp(n, true);
    ValueId moved = t.b.add(base, t.b.c64(uint64_t(offset)));
    switch (idx) {
        case 1: access(t, op, size, rt, base, int(n), moved); break;   // post-index
        case 3: access(t, op, size, rt, moved, int(n), moved); break;  // pre-index
        default: access(t, op, size, rt, moved, -1, ir::kNoValue); break;  // unscaled, unprivileged
    }
    return true;
}

bool load_store_uimm(Translator& t, uint32_t insn) {
    const unsigned size = bits(insn, 31, 30), opc = bits(insn, 23, 22);
    const unsigned n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    MemOp op;
    if (!classify(size, opc, &op)) return false;
    const uint64_t offset = uint64_t(bits(insn, 21, 10)) << size;
    ValueId addr = t.b.add(t.x_sp(n, true), t.b.c64(offset));
    access(t, op, size, rt, addr, -1, ir::kNoValue);
    return true;
}

bool load_store_reg(Translator& t, uint32_t insn) {
    const unsigned size = bits(insn, 31, 30), opc = bits(insn, 23, 22), option = bits(insn, 15, 13);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    MemOp op;
    if (!classify(size, opc, &op)) return false;
    if ((option & 2) == 0) return false;  // only UXTW, LSL (UXTX), SXTW, SXTX
    ValueId offset = t.extend_reg(m, option, bit(insn, 12) ? size : 0, true);
    ValueId addr = t.b.add(t.x_sp(n, true), offset);
    access(t, op, size, rt, addr, -1, ir::kNoValue);
    return true;
}

bool load_literal(Translator& t, uint32_t insn) {
    const unsigned opc = bits(insn, 31, 30), rt = bits(insn, 4, 0);
    const uint64_t addr = t.pc + uint64_t(sign_extend(bits(insn, 23, 5), 19) * 4);
    switch (opc) {
        case 0: access(t, MemOp::kLoad, 2, rt, t.b.c64(addr), -1, ir::kNoValue); break;
        case 1: access(t, MemOp::kLoad, 3, rt, t.b.c64(addr), -1, ir::kNoValue); break;
        case 2: access(t, MemOp::kLoadSigned64, 2, rt, t.b.c64(addr), -1, ir::kNoValue); break;
        default: break;  // PRFM (literal)
    }
    return true;
}

bool load_store_pair(Translator& t, uint32_t insn) {
    const unsigned opc = bits(insn, 31, 30), idx = bits(insn, 24, 23);
    const bool load = bit(insn, 22);
    const unsigned t2 = bits(insn, 14, 10), n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    if (opc == 3) return false;
    if (opc == 1 && (!load || idx == 0)) return false;  // only LDPSW (not STGP, no LDNPSW)
    const unsigned size = opc == 2 ? 3 : 2;
    const uint64_t offset = uint64_t(sign_extend(bits(insn, 21, 15), 7)) << size;
    auto& b = t.b;
    ValueId base = t.x_sp(n, true);
    ValueId moved = b.add(base, b.c64(offset));
    ValueId addr = idx == 1 ? base : moved;
    ValueId addr2 = b.add(addr, b.c64(1u << size));
    const bool writeback = idx == 1 || idx == 3;
    if (load) {
        const bool sgn = opc == 1;
        Type type = size == 3 || sgn ? Type::I64 : Type::I32;
        uint32_t flags = size | t.mem_flags() | (sgn ? uint32_t(ir::kMemSigned) : 0u);
        ValueId v1 = b.load(type, addr, flags);
        ValueId v2 = b.load(type, addr2, flags);
        if (writeback) t.set_x_sp(n, moved);
        t.set_x(rt, v1);
        t.set_x(t2, v2);
    } else {
        ValueId v1 = t.x(rt, size == 3);
        ValueId v2 = t.x(t2, size == 3);
        b.store(addr, v1, size | t.mem_flags());
        b.store(addr2, v2, size | t.mem_flags());
        if (writeback) t.set_x_sp(n, moved);
    }
    return true;
}

bool load_store_ordered(Translator& t, uint32_t insn) {
    const unsigned size = bits(insn, 31, 30), n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    const bool load = bit(insn, 22);
    ValueId addr = t.x_sp(n, true);
    const uint32_t flags = size | ir::kMemAlignCheck;
    if (load) {
        t.set_x(rt, t.b.load(Type::I64, addr, flags));
    } else {
        ValueId v = t.x(rt, true);
        if (size < 3) v = t.b.trunc(size == 2 ? Type::I32 : size == 1 ? Type::I16 : Type::I8, v);
        t.b.store(addr, v, flags);
    }
    return true;
}

bool load_exclusive(Translator& t, uint32_t insn) {
    const bool pair = bit(insn, 21);
    const unsigned size = bits(insn, 31, 30), t2 = bits(insn, 14, 10), n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    auto& b = t.b;
    ValueId addr = t.x_sp(n, true);
    if (!pair) {
        ValueId v = b.load(Type::I64, addr, size | ir::kMemAlignCheck);
        b.set_state(kExclAddr, addr);
        b.set_state(kExclValue, v);
        b.set_state(kExclSize, b.c32(size));
        b.set_state(kExclValid, b.c32(1));
        t.set_x(rt, v);
        return true;
    }
    if (size == 2) {
        // LDXP Wt, Wt2: one aligned doubleword, low word first.
        ValueId v = b.load(Type::I64, addr, 3 | ir::kMemAlignCheck);
        b.set_state(kExclAddr, addr);
        b.set_state(kExclValue, v);
        b.set_state(kExclSize, b.c32(3));
        b.set_state(kExclValid, b.c32(1));
        t.set_x(rt, b.zext(Type::I64, b.trunc(Type::I32, v)));
        t.set_x(t2, b.lshr(v, b.c64(32)));
        return true;
    }
    // LDXP Xt, Xt2: 16 bytes, which must be 16-byte aligned (not just 8).
    check_align16(t, n, false);
    addr = t.x_sp(n, true);
    ValueId v1 = b.load(Type::I64, addr, 3);
    ValueId v2 = b.load(Type::I64, b.add(addr, b.c64(8)), 3);
    b.set_state(kExclAddr, addr);
    b.set_state(kExclValue, v1);
    b.set_state(kExclValue2, v2);
    b.set_state(kExclSize, b.c32(4));
    b.set_state(kExclValid, b.c32(1));
    t.set_x(rt, v1);
    t.set_x(t2, v2);
    return true;
}

bool store_exclusive(Translator& t, uint32_t insn) {
    const bool pair = bit(insn, 21);
    const unsigned size = bits(insn, 31, 30), rs = bits(insn, 20, 16);
    const unsigned t2 = bits(insn, 14, 10), n = bits(insn, 9, 5), rt = bits(insn, 4, 0);
    auto& b = t.b;
    // The monitor records the size of the whole access: 2^size, 8 for a W pair, 16 for an X pair.
    const uint32_t monitor_size = pair ? (size == 2 ? 3 : 4) : size;
    ValueId addr = t.x_sp(n, true);
    ValueId valid = b.get_state(Type::I32, kExclValid);
    ValueId same_addr = b.cmp(Opcode::CmpEq, b.get_state(Type::I64, kExclAddr), addr);
    ValueId same_size = b.cmp(Opcode::CmpEq, b.get_state(Type::I32, kExclSize), b.c32(monitor_size));
    ValueId ok = b.and_(valid, b.and_(same_addr, same_size));
    const uint32_t fail = b.new_label(), done = b.new_label();
    b.br_cond(b.xor_(ok, b.c32(1)), fail);
    if (!pair) {
        ValueId v = t.x(rt, true);
        if (size < 3) v = b.trunc(size == 2 ? Type::I32 : size == 1 ? Type::I16 : Type::I8, v);
        b.store(addr, v, size | ir::kMemAlignCheck);
    } else if (size == 2) {
        ValueId lo = b.zext(Type::I64, t.x(rt, false));
        ValueId hi = b.shl(b.zext(Type::I64, t.x(t2, false)), b.c64(32));
        b.store(addr, b.or_(lo, hi), 3 | ir::kMemAlignCheck);
    } else {
        ValueId v1 = t.x(rt, true), v2 = t.x(t2, true);
        b.store(addr, v1, 3 | ir::kMemAlignCheck);
        b.store(b.add(addr, b.c64(8)), v2, 3);
    }
    t.set_x(rs, b.c32(0));
    b.set_state(kExclValid, b.c32(0));
    b.br(done);
    // Values do not cross labels: everything below is rebuilt from constants.
    b.label(fail);
    t.set_x(rs, b.c32(1));
    b.set_state(kExclValid, b.c32(0));
    b.label(done);
    return true;
}

}  // namespace corvid::a64
