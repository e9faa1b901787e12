/* fuzz_weights: unsharp_model_load_memory on arbitrary bytes (the .usw reader: header, CRC32,
 * architecture parser, tensor table). The CRC32 check would stop almost every mutation, so the
 * harness rewrites the trailer with the correct CRC32 (and the header's file size with the real
 * one) unless the first input byte has its low bit set, in which case the bytes go in untouched.
 * When a model loads and is small (at most 8 input channels, 4096 parameters, 32 lines, 4
 * commas: concat multiplies channels, so this bounds the activation memory), one inference
 * forward pass runs on a 1xCx8x8 input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unsharp/unsharp.h>

/* The channel count from the architecture's first non-comment line, "input NAME C"; 0 if none. */
static int input_channels(const char *arch) {
    const char *s = arch;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
        if (*s == '#') {
            while (*s && *s != '\n') s++;
            continue;
        }
        char name[64];
        int c = 0;
        if (sscanf(s, "input %63s %d", name, &c) == 2) return c;
        return 0;
    }
    return 0;
}

/* Small enough to run: few lines and few concat inputs. */
static int small_arch(const char *arch) {
    int lines = 0, commas = 0;
    for (const char *s = arch; *s; s++) lines += *s == '\n', commas += *s == ',';
    return lines <= 32 && commas <= 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return -1;
    int raw = data[0] & 1;
    data++, size--;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    if (!raw && size >= 44) {
        uint64_t n = size;
        for (int i = 0; i < 8; i++) buf[16 + i] = (uint8_t)(n >> (8 * i));
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    unsharp_model *m = NULL;
    if (unsharp_model_load_memory(buf, size, NULL, &m) == UNSHARP_OK) {
        const char *arch = unsharp_model_arch(m);
        int c = arch ? input_channels(arch) : 0;
        if (c >= 1 && c <= 8 && unsharp_model_param_total(m) <= 4096 && small_arch(arch)) {
            float x[8 * 8 * 8];
            for (int i = 0; i < c * 64; i++) x[i] = (float)(i % 17) / 16.0f;
            unsharp_tensor t = unsharp_tensor_make(x, 1, c, 8, 8);
            (void)unsharp_model_forward(m, &t, 0);
        }
        (void)unsharp_model_get_meta(m, "threshold");
        unsharp_model_free(m);
    }
    free(buf);
    return 0;
}
