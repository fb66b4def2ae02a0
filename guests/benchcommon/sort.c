/* Memory-heavy sorting: quicksort (median of three, insertion sort for short ranges) of
 * 1M pseudo-random 32-bit integers, several rounds with fresh data, each verified and folded
 * into the checksum. */
#include "bench.h"

#define N SCALE(1000000, 20000)
#define ROUNDS 5

static uint32_t data[N];

static void insertion(uint32_t* a, long lo, long hi) {
    for (long i = lo + 1; i <= hi; ++i) {
        uint32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            --j;
        }
        a[j + 1] = v;
    }
}

static void swap(uint32_t* a, long i, long j) {
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(uint32_t* a, long lo, long hi) {
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        uint32_t pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) ++i;
            while (a[j] > pivot) --j;
            if (i <= j) swap(a, i++, j--);
        }
        /* Recurse into the smaller half so the stack stays O(log n). */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
    insertion(a, lo, hi);
}

int main(void) {
    uint64_t x = 0x243f6a8885a308d3ull;
    uint64_t sum = 0;
    for (int round = 0; round < ROUNDS; ++round) {
        for (long i = 0; i < N; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[i] = (uint32_t)x;
        }
        quicksort(data, 0, N - 1);
        for (long i = 0; i < N; ++i) {
            if (i > 0 && data[i - 1] > data[i]) {
                bench_printf("sort: NOT SORTED at %d\n", (int)i);
                break;
            }
            sum = sum * 31 + data[i];
        }
    }
    bench_result("sort", sum);
    return 0;
}
