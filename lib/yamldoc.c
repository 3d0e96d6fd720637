/* Schema-driven reading of YAML documents (see yamldoc.h). */
#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int rn_yaml_line(const yaml_node_t *node)
{
    return node ? (int)node->start_mark.line + 1 : 0;
}

int rn_yaml_fail(rn_yaml_t *y, const yaml_node_t *node, const char *where, const char *fmt, ...)
{
    if (y->rc)
        return y->rc;
    y->rc = RN_ESCHEMA;
    int n = snprintf(y->err, y->err_len, "%s:%d: %s: ", y->file, rn_yaml_line(node), where);
    if (n > 0 && (size_t)n < y->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(y->err + n, y->err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return y->rc;
}

/* Loads the first document of an initialised parser; reports syntax errors with their line. */
static int load_document(rn_yaml_t *y, yaml_parser_t *parser)
{
    if (!yaml_parser_load(parser, &y->doc)) {
        snprintf(y->err, y->err_len, "%s:%zu: YAML syntax error: %s%s%s", y->file,
                 parser->problem_mark.line + 1, parser->problem ? parser->problem : "unknown",
                 parser->context ? " " : "", parser->context ? parser->context : "");
        return y->rc = RN_EPARSE;
    }
    y->loaded = true;
    yaml_node_t *root = yaml_document_get_root_node(&y->doc);
    if (!root) {
        snprintf(y->err, y->err_len, "%s:1: the file is empty", y->file);
        return y->rc = RN_EPARSE;
    }
    if (root->type != YAML_MAPPING_NODE)
        return rn_yaml_fail(y, root, "(top)", "expected a mapping of keys");
    return 0;
}

static void init(rn_yaml_t *y, const char *name, char *err, size_t err_len)
{
    memset(y, 0, sizeof *y);
    y->file = name;
    y->err = err;
    y->err_len = err_len;
    if (err_len)
        err[0] = '\0';
}

int rn_yaml_load(rn_yaml_t *y, const char *path, char *err, size_t err_len)
{
    init(y, path, err, err_len);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, err_len, "%s: cannot open: %s", path, rn_strerror(-e));
        return y->rc = -e;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = load_document(y, &parser);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int rn_yaml_load_buffer(rn_yaml_t *y, const char *name, const uint8_t *buf, size_t len, char *err,
                        size_t err_len)
{
    init(y, name, err, err_len);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, buf, len);
    int rc = load_document(y, &parser);
    yaml_parser_delete(&parser);
    return rc;
}

void rn_yaml_free(rn_yaml_t *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = false;
}

yaml_node_t *rn_yaml_root(rn_yaml_t *y)
{
    return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

bool rn_yaml_is_map(rn_yaml_t *y, const yaml_node_t *node, const char *where)
{
    if (node && node->type == YAML_MAPPING_NODE)
        return true;
    rn_yaml_fail(y, node, where, "expected a mapping of keys");
    return false;
}

bool rn_yaml_is_seq(rn_yaml_t *y, const yaml_node_t *node, const char *where)
{
    if (node && node->type == YAML_SEQUENCE_NODE)
        return true;
    rn_yaml_fail(y, node, where, "expected a list");
    return false;
}

size_t rn_yaml_map_len(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

yaml_node_t *rn_yaml_map_key(rn_yaml_t *y, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *rn_yaml_map_value(rn_yaml_t *y, const yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].value);
}

size_t rn_yaml_seq_len(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *rn_yaml_seq_item(rn_yaml_t *y, const yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

const char *rn_yaml_scalar(rn_yaml_t *y, const yaml_node_t *node, const char *where)
{
    if (node && node->type == YAML_SCALAR_NODE)
        return (const char *)node->data.scalar.value;
    rn_yaml_fail(y, node, where, "expected a single value");
    return NULL;
}

/* Parses a number; returns false for trailing junk, empty text, or a value that is not finite. */
static bool parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Stores one scalar into the output struct according to its field type. Returns y->rc. */
static int store_field(rn_yaml_t *y, const rn_yaml_field_t *f, yaml_node_t *value,
                       const char *where, void *out)
{
    char *slot = (char *)out + f->offset;
    if (f->type == RN_YF_NODE) {
        *(yaml_node_t **)slot = value;
        return y->rc;
    }
    const char *s = rn_yaml_scalar(y, value, where);
    if (!s)
        return y->rc;
    double v;
    switch (f->type) {
    case RN_YF_STR:
        if (*s == '\0')
            return rn_yaml_fail(y, value, where, "must not be empty");
        free(*(char **)slot);
        if (!(*(char **)slot = strdup(s)))
            return y->rc = -ENOMEM;
        break;
    case RN_YF_SNMPVER:
        if (strcmp(s, "1") == 0 || strcmp(s, "2c") == 0 || strcmp(s, "2") == 0 ||
            strcmp(s, "3") == 0)
            *(uint32_t *)slot = (uint32_t)(s[0] - '0');
        else
            return rn_yaml_fail(y, value, where, "'%s' is not an SNMP version (1, 2c or 3)", s);
        break;
    case RN_YF_U32:
    case RN_YF_DOUBLE:
        if (!parse_number(s, &v))
            return rn_yaml_fail(y, value, where, "'%s' is not a number", s);
        if (v < f->min || v > f->max)
            return rn_yaml_fail(y, value, where, "%s is out of range [%g, %g]", s, f->min, f->max);
        if (f->type == RN_YF_U32) {
            if (v != floor(v))
                return rn_yaml_fail(y, value, where, "'%s' must be a whole number", s);
            *(uint32_t *)slot = (uint32_t)v;
        } else {
            *(double *)slot = v;
        }
        break;
    default:
        break;
    }
    return y->rc;
}

int rn_yaml_read_map(rn_yaml_t *y, yaml_node_t *map, const char *where,
                     const rn_yaml_field_t *fields, size_t n_fields, void *out)
{
    if (y->rc || !rn_yaml_is_map(y, map, where))
        return y->rc;
    bool seen[64] = { false };
    char path[512];
    for (size_t i = 0; i < rn_yaml_map_len(map) && !y->rc; i++) {
        yaml_node_t *k = rn_yaml_map_key(y, map, i);
        const char *key = rn_yaml_scalar(y, k, where);
        if (!key)
            break;
        size_t j = 0;
        while (j < n_fields && strcmp(fields[j].key, key) != 0)
            j++;
        snprintf(path, sizeof path, "%s.%s", where, key);
        if (j == n_fields)
            return rn_yaml_fail(y, k, path, "unknown key");
        if (seen[j])
            return rn_yaml_fail(y, k, path, "given twice");
        seen[j] = true;
        store_field(y, &fields[j], rn_yaml_map_value(y, map, i), path, out);
    }
    for (size_t j = 0; j < n_fields && !y->rc; j++) {
        if (fields[j].required && !seen[j]) {
            snprintf(path, sizeof path, "%s.%s", where, fields[j].key);
            rn_yaml_fail(y, map, path, "required key is missing");
        }
    }
    return y->rc;
}
