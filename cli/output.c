/* output.c: the results as a table for people, or one JSON object / CSV row a photo for
 * programs, and the progress bar on stderr. Filenames are bytes: JSON output keeps valid UTF-8
 * and writes each byte that is not as the lone surrogate \udcXX (Python's "surrogateescape",
 * so os.fsencode() gives back the exact name); CSV output writes the bytes unchanged, quoted per
 * RFC 4180; the table escapes control characters and invalid bytes as \n, \xNN. With groups,
 * each photo also has its group (16 hex digits), rank (1 = sharpest) and role; the table
 * shows a group's frames together, sharpest first. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "classify.h"

const char *verdict_name(unsharp_verdict v)
{
    return v == UNSHARP_VERDICT_SHARP ? "sharp" : v == UNSHARP_VERDICT_BLURRY ? "blurry" : "unsure";
}

const char *kind_name(unsharp_blur_kind k)
{
    return k == UNSHARP_KIND_MOTION ? "motion" : k == UNSHARP_KIND_DEFOCUS ? "defocus" : "";
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte starts none. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static void put_json_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        int n = utf8_len(s);
        if (n == 0) {
            fprintf(f, "\\udc%02x", *s);
            s++;
        } else if (n > 1) {
            fwrite(s, 1, (size_t)n, f);
            s += n;
        } else {
            unsigned c = *s++;
            if (c == '"' || c == '\\') fputc('\\', f), fputc((int)c, f);
            else if (c == '\n') fputs("\\n", f);
            else if (c == '\t') fputs("\\t", f);
            else if (c == '\r') fputs("\\r", f);
            else if (c < 0x20 || c == 0x7F) fprintf(f, "\\u%04x", c);
            else fputc((int)c, f);
        }
    }
    fputc('"', f);
}

static void put_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' ')) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void put_readable(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        int n = utf8_len(s);
        if (n == 0) {
            fprintf(f, "\\x%02x", *s++);
        } else if (n > 1) {
            fwrite(s, 1, (size_t)n, f);
            s += n;
        } else {
            unsigned c = *s++;
            if (c == '\\') fputs("\\\\", f);
            else if (c == '\n') fputs("\\n", f);
            else if (c == '\t') fputs("\\t", f);
            else if (c < 0x20 || c == 0x7F) fprintf(f, "\\x%02x", c);
            else fputc((int)c, f);
        }
    }
}

static int progress_on;
static int first_errno; /* errno of the first failed write of the results */

void output_begin(const options *o)
{
    progress_on = !o->quiet && isatty(2);
    if (o->format == FORMAT_CSV) fputs("path,sharpness,verdict,kind,width,height,group,rank,role,error\r\n", stdout);
    else if (o->format == FORMAT_TABLE && o->group)
        printf("%-7s %9s %-7s %11s %-13s  %s\n", "verdict", "sharpness", "kind", "size", "group", "path");
    else if (o->format == FORMAT_TABLE) printf("%-7s %9s %-7s %11s  %s\n", "verdict", "sharpness", "kind", "size", "path");
}

/* the group's id as 16 hex digits */
static void group_id(const item *it, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)it->place.group);
}

void output_item(const options *o, const item *it)
{
    FILE *f = stdout;
    const int grouped = o->group && it->frame && !it->error;
    progress_clear();
    if (o->format == FORMAT_JSONL) {
        fputs("{\"path\":", f);
        put_json_string(f, it->path);
        if (it->error) {
            fputs(",\"error\":", f);
            put_json_string(f, it->error);
        } else {
            fprintf(f, ",\"sharpness\":%.4f,\"verdict\":\"%s\",\"kind\":", it->sharpness, verdict_name(it->verdict));
            if (it->verdict == UNSHARP_VERDICT_BLURRY) fprintf(f, "\"%s\"", kind_name(it->kind));
            else fputs("null", f);
            fprintf(f, ",\"width\":%d,\"height\":%d", it->width, it->height);
            if (grouped) {
                char g[17];
                group_id(it, g);
                fprintf(f, ",\"group\":\"%s\",\"rank\":%d,\"role\":\"%s\"", g, it->place.rank,
                        unsharp_role_name(it->place.role));
            }
        }
        fputs("}\n", f);
    } else if (o->format == FORMAT_CSV) {
        put_csv_field(f, it->path);
        if (it->error) {
            fputs(",,,,,,,,,", f);
            put_csv_field(f, it->error);
        } else {
            fprintf(f, ",%.4f,%s,%s,%d,%d,", it->sharpness, verdict_name(it->verdict),
                    it->verdict == UNSHARP_VERDICT_BLURRY ? kind_name(it->kind) : "", it->width, it->height);
            if (grouped) {
                char g[17];
                group_id(it, g);
                fprintf(f, "%s,%d,%s,", g, it->place.rank, unsharp_role_name(it->place.role));
            } else {
                fputs(",,,", f);
            }
        }
        fputs("\r\n", f);
    } else if (it->error) {
        fprintf(f, "%-7s %9s %-7s %11s  ", "error", "", "", "");
        if (o->group) fprintf(f, "%-13s  ", "");
        put_readable(f, it->path);
        fputs(": ", f);
        put_readable(f, it->error);
        fputc('\n', f);
    } else {
        char size[32];
        snprintf(size, sizeof size, "%dx%d", it->width, it->height);
        fprintf(f, "%-7s %9.3f %-7s %11s ", verdict_name(it->verdict), it->sharpness,
                it->verdict == UNSHARP_VERDICT_BLURRY ? kind_name(it->kind) : "", size);
        /* a group's frames: role rank/size ("best 1/8", "bracket 2/3"), indented after the first */
        char role[40] = "";
        if (grouped && it->place.size > 1)
            snprintf(role, sizeof role, "%s%s %d/%d", it->place.rank > 1 ? " " : "", unsharp_role_name(it->place.role),
                     it->place.rank, it->place.size);
        if (o->group) fprintf(f, "%-13s ", role);
        fputc(' ', f);
        put_readable(f, it->path);
        fputc('\n', f);
    }
    if (progress_on) fflush(f);
    if (ferror(f) && !first_errno) first_errno = errno ? errno : EIO;
}

int output_errno(void)
{
    return first_errno;
}

void progress_show(size_t done, size_t total, double elapsed)
{
    if (!progress_on) return;
    int width = 30, fill = total ? (int)(done * (size_t)width / total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : ' ';
    bar[width] = 0;
    double rate = elapsed > 0 ? done / elapsed : 0;
    int eta = rate > 0 ? (int)((total - done) / rate) : 0;
    fprintf(stderr, "\r" PROG ": [%s] %zu/%zu photos, %.1f/s, ETA %dm%02ds ", bar, done, total, rate, eta / 60, eta % 60);
    fflush(stderr);
}

void progress_clear(void)
{
    if (!progress_on) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}
