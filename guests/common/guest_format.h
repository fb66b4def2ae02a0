/* printf-style formatting shared by the bare-metal guest runtimes (AArch64 and x86): %d %u %x
 * %c %s %% with an optional 0 pad, a width and l/ll. Each runtime passes its console's putc;
 * '\n' goes out as "\r\n". Header-only so every guest build keeps its own source list. */
#ifndef CORVID_GUEST_FORMAT_H
#define CORVID_GUEST_FORMAT_H

#include <stdarg.h>
#include <stdint.h>

typedef void (*guest_putc_fn)(char c);

static void guest_put_unsigned(guest_putc_fn put, uint64_t v, unsigned base, int width, char pad) {
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    while (n < width--) put(pad);
    while (n > 0) put(buf[--n]);
}

static void guest_put_string(guest_putc_fn put, const char* s) {
    while (*s) {
        if (*s == '\n') put('\r');
        put(*s++);
    }
}

static void guest_vformat(guest_putc_fn put, const char* fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (*fmt == '\n') put('\r');
            put(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        int is_long = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            is_long = 1;
            fmt++;
        }
        switch (*fmt) {
            case 'd': {
                int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
                if (v < 0) {
                    put('-');
                    guest_put_unsigned(put, -(uint64_t)v, 10, width, pad);
                } else {
                    guest_put_unsigned(put, (uint64_t)v, 10, width, pad);
                }
                break;
            }
            case 'u':
                guest_put_unsigned(put, is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
                break;
            case 'x':
                guest_put_unsigned(put, is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
                break;
            case 'c': put((char)va_arg(ap, int)); break;
            case 's': guest_put_string(put, va_arg(ap, const char*)); break;
            case '%': put('%'); break;
            default: put('?'); break;
        }
        if (*fmt == '\0') break;
    }
}

#endif
