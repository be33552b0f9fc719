/*
 * OpenDKIM (libopendkim) throughput on the messages `inkan-bench-dkim gen` wrote, one core:
 * verifying them with the key records served from memory by a key-lookup callback (no DNS, no
 * file read per message), or signing the unsigned ones relaxed/relaxed with `DIR/rsa.pem` or
 * `DIR/ed.pem`. Prints messages per second of CPU time (and of wall time), like the other
 * peers' scripts. Every verification must pass, or it stops with the reason.
 *
 *   cc -O2 -o opendkim-bench opendkim_bench.c -lopendkim
 *   opendkim-bench DIR verify|sign rsa|ed
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <opendkim/dkim.h>

struct buf {
    unsigned char *data;
    size_t len;
};

/* Bench messages were signed at this time (bench/dkim/src/main.rs, NOW). */
static const uint64_t NOW = 1795000000;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "opendkim-bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static struct buf read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    struct buf b = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (b.len == cap) {
            cap = cap ? cap * 2 : 16384;
            b.data = realloc(b.data, cap + 1);
            if (b.data == NULL)
                die("out of memory", NULL);
        }
        size_t n = fread(b.data + b.len, 1, cap - b.len, f);
        if (n == 0)
            break;
        b.len += n;
    }
    fclose(f);
    b.data[b.len] = '\0';
    return b;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of DIR in name order, read into memory. */
static struct buf *read_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        die("cannot open the directory", dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    struct buf *all = calloc(n ? n : 1, sizeof *all);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path)
            die("path too long", names[i]);
        all[i] = read_file(path);
        free(names[i]);
    }
    free(names);
    *count = n;
    return all;
}

/*
 * The key records of DIR/keys.json, a flat JSON object of name -> TXT value as the generator
 * writes it: the strings are read in order, name then value, with backslash escapes taken
 * as the character they escape (none of these values has one).
 */
#define MAX_KEYS 16
static char *key_names[MAX_KEYS];
static char *key_values[MAX_KEYS];
static size_t key_count;

static void load_keys(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/keys.json", dir) >= (int)sizeof path)
        die("path too long", dir);
    struct buf json = read_file(path);
    char *strings[2 * MAX_KEYS];
    size_t found = 0;
    for (size_t i = 0; i < json.len; i++) {
        if (json.data[i] != '"')
            continue;
        if (found == 2 * MAX_KEYS)
            die("too many keys in", path);
        char *out = malloc(json.len);
        size_t o = 0;
        for (i++; i < json.len && json.data[i] != '"'; i++) {
            if (json.data[i] == '\\' && i + 1 < json.len)
                i++;
            out[o++] = (char)json.data[i];
        }
        if (i == json.len)
            die("unterminated string in", path);
        out[o] = '\0';
        strings[found++] = out;
    }
    if (found % 2 != 0)
        die("a name without a value in", path);
    for (size_t k = 0; k < found / 2; k++) {
        key_names[k] = strings[2 * k];
        key_values[k] = strings[2 * k + 1];
    }
    key_count = found / 2;
    free(json.data);
}

/* libopendkim's key lookup: the record for selector._domainkey.domain, from memory. */
static DKIM_CBSTAT lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    (void)dkim;
    char name[1024];
    snprintf(name, sizeof name, "%s._domainkey.%s", (char *)dkim_sig_getselector(sig),
             (char *)dkim_sig_getdomain(sig));
    for (size_t k = 0; k < key_count; k++) {
        if (strcasecmp(name, key_names[k]) == 0) {
            size_t len = strlen(key_values[k]);
            if (len >= buflen)
                return DKIM_CBSTAT_ERROR;
            memcpy(buf, key_values[k], len + 1);
            return DKIM_CBSTAT_CONTINUE;
        }
    }
    return DKIM_CBSTAT_NOTFOUND;
}

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Hands the whole message to `dkim` and ends it, as a milter does at end of message. */
static DKIM_STAT feed(DKIM *dkim, struct buf *m)
{
    DKIM_STAT status = dkim_chunk(dkim, m->data, m->len);
    if (status == DKIM_STAT_OK)
        status = dkim_chunk(dkim, NULL, 0);
    if (status == DKIM_STAT_OK)
        status = dkim_eom(dkim, NULL);
    return status;
}

static void verify_one(DKIM_LIB *lib, struct buf *m)
{
    DKIM_STAT status;
    DKIM *dkim = dkim_verify(lib, (const unsigned char *)"bench", NULL, &status);
    if (dkim == NULL)
        die("dkim_verify", dkim_getresultstr(status));
    status = feed(dkim, m);
    DKIM_SIGINFO *sig = dkim_getsignature(dkim);
    if (status != DKIM_STAT_OK || sig == NULL || !DKIM_SIG_CHECK(sig)) {
        const char *why = dkim_getresultstr(status);
        if (sig != NULL && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
            why = "body hash mismatch";
        else if (sig != NULL && dkim_sig_geterror(sig) != DKIM_SIGERROR_OK)
            why = dkim_sig_geterrorstr(dkim_sig_geterror(sig));
        die("OpenDKIM did not verify a message", why);
    }
    dkim_free(dkim);
}

static void sign_one(DKIM_LIB *lib, struct buf *m, const char *key, const char *selector,
                     dkim_alg_t alg)
{
    DKIM_STAT status;
    DKIM *dkim = dkim_sign(lib, (const unsigned char *)"bench", NULL, (dkim_sigkey_t)key,
                           (const unsigned char *)selector, (const unsigned char *)"example.com",
                           DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, alg, -1, &status);
    if (dkim == NULL)
        die("dkim_sign", dkim_getresultstr(status));
    status = feed(dkim, m);
    unsigned char field[4096];
    if (status == DKIM_STAT_OK)
        status = dkim_getsighdr(dkim, field, sizeof field, strlen("DKIM-Signature: "));
    if (status != DKIM_STAT_OK)
        die("OpenDKIM did not sign a message", dkim_getresultstr(status));
    dkim_free(dkim);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[2], "verify") != 0 && strcmp(argv[2], "sign") != 0) ||
        (strcmp(argv[3], "rsa") != 0 && strcmp(argv[3], "ed") != 0)) {
        fprintf(stderr, "usage: opendkim-bench DIR verify|sign rsa|ed\n");
        return 2;
    }
    const char *dir = argv[1], *mode = argv[2], *alg = argv[3];
    bool verify = strcmp(mode, "verify") == 0;
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    if (lib == NULL)
        die("dkim_init failed", NULL);
    uint64_t now = NOW;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &now, sizeof now);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, verify ? alg : "plain") >= (int)sizeof path)
        die("path too long", dir);
    size_t n;
    struct buf *messages = read_dir(path, &n);
    if (n == 0)
        die("no messages in", path);
    struct buf key = {NULL, 0};
    if (verify) {
        load_keys(dir);
        dkim_set_key_lookup(lib, lookup);
    } else {
        if (snprintf(path, sizeof path, "%s/%s.pem", dir, alg) >= (int)sizeof path)
            die("path too long", dir);
        key = read_file(path);
    }
    dkim_alg_t sign_alg = strcmp(alg, "rsa") == 0 ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256;
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
        if (verify)
            verify_one(lib, &messages[i]);
        else
            sign_one(lib, &messages[i], (const char *)key.data, alg, sign_alg);
    }
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    wall = seconds(CLOCK_MONOTONIC) - wall;
    printf("opendkim %s %s\t%.0f msg/s\t(wall %.0f msg/s)\n", mode, alg, (double)n / cpu,
           (double)n / wall);
    dkim_close(lib);
    return 0;
}
