/* A main() for the fuzz harnesses when they are built without libFuzzer: it runs
 * LLVMFuzzerTestOneInput once on every file named on the command line, or on every regular file
 * inside a directory named there (not recursively), so `make check` replays the corpus under the
 * ordinary build (and valgrind or the sanitizers, if configured). Prints how many inputs it
 * replayed; exits 1 if there were none or a file could not be read. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into a malloc'd buffer. Returns 0 or -errno. */
static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, fp)) > 0;) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    int err = !buf ? -ENOMEM : ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (err) {
        free(buf);
        return err;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

/* Replays one file. Returns 0 or -errno (with a message). */
static int replay_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int err = read_file(path, &data, &len);
    if (err) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(-err));
        return err;
    }
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

/* Replays every regular file in dir (hidden files skipped); adds them to *count. Returns 0 or
 * -errno. */
static int replay_dir(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -errno;
    }
    int err = 0;
    for (struct dirent *e; !err && (e = readdir(d));) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!(err = replay_file(path)))
            (*count)++;
    }
    closedir(d);
    return err;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int err;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode))
            err = replay_dir(argv[i], &count);
        else if (!(err = replay_file(argv[i])))
            count++;
        if (err)
            return 1;
    }
    printf("%s: replayed %u inputs\n", argc > 0 ? argv[0] : "replay", count);
    return count > 0 ? 0 : 1;
}
