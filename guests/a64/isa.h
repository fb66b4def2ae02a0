/* Shared helpers for the integer ISA exercise guest (isa*.c): result hashing and operands. */
#ifndef CORVID_GUEST_ISA_H
#define CORVID_GUEST_ISA_H

#include "runtime.h"

#define NVALS 16
extern const uint64_t kVals[NVALS];

/* Each group folds its results into a 64-bit FNV-style hash, printed with the count, so a
 * single line per group pins every result down without a screen of numbers. */
void group_begin(void);
void mix(uint64_t v);
void group_end(const char* name);

void isa_data_processing(void);
void isa_bits_and_muldiv(void);
void isa_branches(void);
void isa_load_store(void);
void isa_sysregs(void);
void isa_programs(void);

#endif
