/* Memory-heavy sorting: quicksort (median of three, insertion sort for short ranges) of 1M
 * 32-bit integers from a xorshift generator, twice (fresh data each round); the checksum hashes
 * the sorted arrays. */
#include "bench.h"

#define N SCALE(1000000, 20000)

static int32_t data[N];

static void insertion(int32_t* a, long lo, long hi) {
    for (long i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int32_t* a, long i, long j) {
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

__attribute__((noinline)) static void quicksort(int32_t* a, long lo, long hi) {
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        int32_t pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) swap(a, i++, j--);
        }
        /* Recurse into the smaller part, loop on the larger (bounded stack). */
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
    uint64_t s = 0x853c49e6748fea9bull;
    uint64_t h = HASH_INIT;
    for (int round = 0; round < 2; round++) {
        for (long i = 0; i < N; i++) data[i] = (int32_t)bench_next(&s);
        quicksort(data, 0, N - 1);
        for (long i = 0; i < N; i++) {
            if (i > 0 && data[i - 1] > data[i]) h = 0; /* unsorted: a checksum no correct run gives */
            h = hash_u64(h, (uint64_t)(uint32_t)data[i]);
        }
    }
    bench_result("sort", h);
    return 0;
}
