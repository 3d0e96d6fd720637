/* YAML documents read through a schema: the only module that speaks libyaml.
 *
 * A file is loaded whole into a libyaml document (nodes carry their line), then read with
 * declarative field tables: each table lists a mapping's keys, their types, bounds and where the
 * value goes in the caller's struct. Unknown keys, missing required keys, wrong types and values
 * out of bounds are errors of the form "file:line: path.to.field: what is wrong". The first error
 * sticks: every later call returns it at once, so a reader can check once at the end. */
#ifndef RN_YAMLDOC_H
#define RN_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

typedef struct {
    yaml_document_t doc;
    bool loaded;
    const char *file;   /* borrowed: for messages */
    int rc;             /* 0, or the first error */
    char *err;          /* caller's buffer */
    size_t err_len;
} rn_yaml_t;

typedef enum {
    RN_YF_STR,          /* char *, strdup'd */
    RN_YF_U32,          /* uint32_t, integer within [min, max] */
    RN_YF_DOUBLE,       /* double within [min, max] */
    RN_YF_NODE,         /* yaml_node_t *: any node, read by the caller */
    RN_YF_SNMPVER,      /* uint32_t: 1, "2c" or 2, 3 */
} rn_yaml_type_t;

typedef struct {
    const char *key;
    rn_yaml_type_t type;
    bool required;
    size_t offset;      /* offsetof() into the output struct */
    double min, max;    /* bounds for numbers */
} rn_yaml_field_t;

/* Parses path (one document; the root must be a mapping). Returns 0, -errno, or RN_EPARSE with
 * "file:line: what" in err. rn_yaml_free() is safe after any result. */
int rn_yaml_load(rn_yaml_t *y, const char *path, char *err, size_t err_len);

/* Parses a document from memory (name is used in messages). As rn_yaml_load. */
int rn_yaml_load_buffer(rn_yaml_t *y, const char *name, const uint8_t *buf, size_t len, char *err,
                        size_t err_len);

void rn_yaml_free(rn_yaml_t *y);

yaml_node_t *rn_yaml_root(rn_yaml_t *y);

/* Reads the mapping `map` (found at `where`, e.g. "nodes.jaipur") into out through fields.
 * Returns y->rc: 0, or RN_ESCHEMA with the message set. */
int rn_yaml_read_map(rn_yaml_t *y, yaml_node_t *map, const char *where,
                     const rn_yaml_field_t *fields, size_t n_fields, void *out);

/* Records an error at node (line taken from it) unless one is already recorded; returns y->rc. */
int rn_yaml_fail(rn_yaml_t *y, const yaml_node_t *node, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Type checks that record an error and return false when node is not of the kind. */
bool rn_yaml_is_map(rn_yaml_t *y, const yaml_node_t *node, const char *where);
bool rn_yaml_is_seq(rn_yaml_t *y, const yaml_node_t *node, const char *where);

/* Iteration helpers over a mapping's pairs and a sequence's items. */
size_t rn_yaml_map_len(const yaml_node_t *map);
yaml_node_t *rn_yaml_map_key(rn_yaml_t *y, const yaml_node_t *map, size_t i);
yaml_node_t *rn_yaml_map_value(rn_yaml_t *y, const yaml_node_t *map, size_t i);
size_t rn_yaml_seq_len(const yaml_node_t *seq);
yaml_node_t *rn_yaml_seq_item(rn_yaml_t *y, const yaml_node_t *seq, size_t i);

/* Returns the scalar text of node, or NULL (and records an error) when it is not a scalar. */
const char *rn_yaml_scalar(rn_yaml_t *y, const yaml_node_t *node, const char *where);

/* The 1-based line of a node. */
int rn_yaml_line(const yaml_node_t *node);

#endif
