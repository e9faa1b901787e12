/* test_alloc_failure.c: the engine under failing allocations, as SQLite tests itself. The
 * test links with -Wl,--wrap for malloc, calloc, realloc and free, so every allocation the
 * engine makes goes through the wrappers below. For N = 1, 2, ... the Nth allocation fails;
 * each run must fail cleanly with a status (never crash), and after the handles are freed no
 * allocation made through the wrappers may remain, until N is large enough to succeed. */
#include <check.h>
#include "testutil.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unsharp/unsharp.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long fail_at = -1; /* the count at which an allocation fails; -1 never */
static long counter;

/* The live set: pointers handed out by the wrappers (open addressing, no deletion marks
 * needed: it is rebuilt empty for every run). */
#define LIVE_SLOTS 65536
static void *live[LIVE_SLOTS];
static long live_count;

static size_t slot_of(void *p) { return ((uintptr_t)p >> 4) * 2654435761u % LIVE_SLOTS; }

static void live_add(void *p)
{
    for (size_t i = slot_of(p);; i = (i + 1) % LIVE_SLOTS)
        if (!live[i]) { live[i] = p; live_count++; return; }
}

static int live_remove(void *p)
{
    for (size_t i = slot_of(p), k = 0; k < LIVE_SLOTS; i = (i + 1) % LIVE_SLOTS, k++) {
        if (live[i] == p) {
            /* re-insert the rest of the cluster to keep lookups correct */
            live[i] = NULL;
            live_count--;
            for (size_t j = (i + 1) % LIVE_SLOTS; live[j]; j = (j + 1) % LIVE_SLOTS) {
                void *q = live[j];
                live[j] = NULL;
                live_count--;
                live_add(q);
            }
            return 1;
        }
        if (!live[i]) return 0;
    }
    return 0;
}

static int should_fail(void) { return fail_at >= 0 && ++counter == fail_at; }

void *__wrap_malloc(size_t n)
{
    if (should_fail()) return NULL;
    void *p = __real_malloc(n);
    if (p) live_add(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t k)
{
    if (should_fail()) return NULL;
    void *p = __real_calloc(n, k);
    if (p) live_add(p);
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (should_fail()) return NULL;
    void *p = __real_realloc(old, n);
    if (p) {
        if (old) live_remove(old);
        live_add(p);
    }
    return p;
}

void __wrap_free(void *p)
{
    if (p) live_remove(p);
    __real_free(p);
}

static const char *ARCH =
    "input x 1\n"
    "conv c1 x out=4 k=3 s=2 p=1\n"
    "lrelu a1 c1 slope=0.1\n"
    "maxpool mp a1 k=2\n"
    "dropout dr mp p=0.2\n"
    "conv tiles dr out=1 k=1\n"
    "sigmoid_ce tile_loss tiles\n"
    "gvar gv dr\n"
    "dense image gv out=2\n"
    "softmax_ce image_loss image\n";

/* One whole use of the engine: create, train a step, save, load, infer. Returns the first
 * failing status. */
static unsharp_status scenario(const char *path)
{
    unsharp_model *m = NULL, *l = NULL;
    unsharp_status st;
    float x[2 * 16 * 16], tiles[2 * 4 * 4], label[2] = {0, 1}, out[2 * 2];
    for (int i = 0; i < 2 * 16 * 16; i++) x[i] = (float)(i % 7) / 7.0f;
    for (int i = 0; i < 2 * 4 * 4; i++) tiles[i] = (float)(i % 2);
    unsharp_tensor t = unsharp_tensor_make(x, 2, 1, 16, 16), o = unsharp_tensor_make(out, 2, 2, 1, 1);
    unsharp_optimizer_config cfg = {UNSHARP_OPT_ADAM, 1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0};
    if ((st = unsharp_model_create(ARCH, 1, NULL, &m))) goto done;
    if ((st = unsharp_model_set_meta(m, "threshold", "0.5"))) goto done;
    if ((st = unsharp_model_set_optimizer(m, &cfg))) goto done;
    if ((st = unsharp_model_set_target(m, "tile_loss", tiles, NULL, 32))) goto done;
    if ((st = unsharp_model_set_target(m, "image_loss", label, NULL, 2))) goto done;
    if ((st = unsharp_model_forward(m, &t, 1))) goto done;
    if ((st = unsharp_model_backward(m))) goto done;
    if ((st = unsharp_model_step(m))) goto done;
    if ((st = unsharp_model_save(m, path))) goto done;
    if ((st = unsharp_model_load(path, NULL, &l))) goto done;
    if ((st = unsharp_model_forward(l, &t, 0))) goto done;
    st = unsharp_model_get_output(l, "image", &o);
done:
    unsharp_model_free(m);
    unsharp_model_free(l);
    return st;
}

START_TEST(every_allocation_may_fail)
{
    char path[] = "/tmp/unsharp-allocfail-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    long n;
    int failures = 0;
    for (n = 1; n < 10000; n++) {
        memset(live, 0, sizeof live);
        live_count = 0;
        counter = 0;
        fail_at = n;
        unsharp_status st = scenario(path);
        fail_at = -1;
        long leaked = live_count;
        ck_assert_msg(leaked == 0, "allocation %ld failed: %ld allocations leaked (status %s)", n, leaked,
                      unsharp_status_name(st));
        if (st == UNSHARP_OK) break; /* N is past the last allocation */
        ck_assert_msg(st == UNSHARP_ERR_NOMEM, "allocation %ld failed: got %s, want UNSHARP_ERR_NOMEM", n,
                      unsharp_status_name(st));
        failures++;
    }
    ck_assert_msg(n < 10000, "the scenario never succeeded");
    ck_assert_msg(failures >= 10, "only %d allocations were tried: the wrappers see too little", failures);
    unlink(path);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(access(tmp, F_OK) != 0, "a failed save left %s behind", tmp);
}
END_TEST

/* Grouping: a frame described from an image and a judgement's focus map, then three frames
 * grouped. Returns the first failing status. */
static unsharp_status group_scenario(void)
{
    static unsigned char px[64 * 48];
    float map[4 * 3], texture[4 * 3];
    for (int i = 0; i < 64 * 48; i++) px[i] = (unsigned char)(i * 7 % 251);
    for (int i = 0; i < 12; i++) map[i] = (float)i / 12, texture[i] = 1;
    unsharp_image img = {.width = 64, .height = 48, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 64,
                         .pixels = px};
    unsharp_judgement j = {.sharpness = 0.5f, .map_w = 4, .map_h = 3, .map = map, .texture = texture};
    unsharp_frame f[3] = {{0}};
    unsharp_status st;
    for (int k = 0; k < 3; k++) {
        if ((st = unsharp_frame_describe(&f[k], &img, &j))) return st;
        f[k].time_ms = 100 * k;
    }
    const char *keys[3] = {"a", "b", "c"};
    unsharp_group_place p[3];
    return unsharp_group(f, keys, 3, NULL, p);
}

START_TEST(grouping_allocations_may_fail)
{
    long n;
    int failures = 0;
    for (n = 1; n < 1000; n++) {
        memset(live, 0, sizeof live);
        live_count = 0;
        counter = 0;
        fail_at = n;
        unsharp_status st = group_scenario();
        fail_at = -1;
        ck_assert_msg(live_count == 0, "allocation %ld failed: %ld allocations leaked", n, live_count);
        if (st == UNSHARP_OK) break;
        ck_assert_msg(st == UNSHARP_ERR_NOMEM, "allocation %ld failed: got %s", n, unsharp_status_name(st));
        failures++;
    }
    ck_assert_msg(n < 1000, "the grouping never succeeded");
    ck_assert_msg(failures >= 3, "only %d allocations were tried", failures);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_failure");
    TCase *tc = tcase_create("nth");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_allocation_may_fail);
    tcase_add_test(tc, grouping_allocations_may_fail);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
