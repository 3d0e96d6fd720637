/* The agent's latest inventory frame per device: a short list (one entry per polled device,
 * a few at most per node), searched linearly. */
#include "inventory_box.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    char *node, *device;
    uint8_t *frame;
    size_t len;
} entry_t;

struct rn_inventory_box {
    entry_t *head;
};

rn_inventory_box_t *rn_inventory_box_new(void)
{
    return calloc(1, sizeof(rn_inventory_box_t));
}

void rn_inventory_box_free(rn_inventory_box_t *b)
{
    if (!b)
        return;
    for (entry_t *e = b->head, *n; e; e = n) {
        n = e->next;
        free(e->node), free(e->device), free(e->frame), free(e);
    }
    free(b);
}

/* Returns the entry of (node, device), node "" for the agent's own; NULL if none. */
static entry_t *find(const rn_inventory_box_t *b, const char *node, const char *device)
{
    for (entry_t *e = b->head; e; e = e->next)
        if (strcmp(e->node, node ? node : "") == 0 && strcmp(e->device, device) == 0)
            return e;
    return NULL;
}

int rn_inventory_box_put(rn_inventory_box_t *b, const Rn__Inventory *msg)
{
    Rn__Frame f = RN__FRAME__INIT;
    f.body_case = RN__FRAME__BODY_INVENTORY;
    f.inventory = (Rn__Inventory *)msg;
    uint8_t *buf;
    size_t len;
    int rc = rn_wire_encode(&f, &buf, &len);
    if (rc)
        return rc;
    entry_t *e = find(b, msg->node, msg->device);
    if (!e) {
        if (!(e = calloc(1, sizeof *e)) || !(e->node = strdup(msg->node ? msg->node : "")) ||
            !(e->device = strdup(msg->device))) {
            if (e)
                free(e->node), free(e);
            free(buf);
            return -ENOMEM;
        }
        e->next = b->head;
        b->head = e;
    }
    free(e->frame);
    e->frame = buf, e->len = len;
    return 0;
}

/* Sends a copy of e's frame. Returns send's result or -ENOMEM. */
static int send_copy(const entry_t *e, int (*send)(void *ctx, uint8_t *buf, size_t len),
                     void *ctx)
{
    uint8_t *copy = malloc(e->len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, e->frame, e->len);
    return send(ctx, copy, e->len);
}

size_t rn_inventory_box_send_all(const rn_inventory_box_t *b,
                                 int (*send)(void *ctx, uint8_t *buf, size_t len), void *ctx)
{
    size_t n = 0;
    for (const entry_t *e = b->head; e; e = e->next, n++)
        if (send_copy(e, send, ctx) != 0)
            break;
    return n;
}

int rn_inventory_box_send_one(const rn_inventory_box_t *b, const char *node, const char *device,
                              int (*send)(void *ctx, uint8_t *buf, size_t len), void *ctx)
{
    const entry_t *e = find(b, node, device);
    return e ? send_copy(e, send, ctx) : -ENOENT;
}
