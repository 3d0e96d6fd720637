#!/usr/bin/env python3
"""Checks a JSON answer of the rajnet-collector HTTP API against the shapes of docs/api.md.

usage: api_check.py KIND < answer.json    (KIND: status, nodes, node, links, services, alarms,
                                           outages, maintenance, series, error, alarm)
Exits 0 when the shape matches, else 1 with the first mismatch on stderr."""
import json
import os
import re
import sys

NODE = {"id", "tier", "parent", "district", "status", "connected", "last_seen_ms", "uplinks", "reaches"}
LINK = {"circuit", "node", "remote_node", "vendor", "vendor_name", "kind", "mbps", "sla", "role", "status"}
ALARM = {"id", "type", "severity", "node", "entity", "vendor", "circuit", "root_id", "text",
         "impact_nodes", "impact_services", "raised_ms", "cleared_ms", "planned", "acked_by",
         "acked_ms", "ack_comment"}
OUTAGE = {"id", "alarm_id", "entity", "kind", "vendor", "circuit", "root_cause", "start_ms", "end_ms", "planned"}
MAINT = {"id", "entity", "start_ms", "end_ms", "reason", "created_by"}


def doc_alarm_types():
    """The alarm types of docs/api.md's Vocabulary table (its "alarm type" row, up to the ';'),
    so that a type added to the collector and its docs is known here without a second list."""
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "api.md")
    with open(doc, encoding="utf-8") as f:
        for line in f:
            if line.startswith("| alarm type |"):
                return set(re.findall(r"`([a-z_]+)`", line.split("|")[2].split(";")[0]))
    raise SystemExit("api_check.py: no alarm type row in docs/api.md")


TYPES = doc_alarm_types()


def need(obj, keys, what):
    if not isinstance(obj, dict):
        raise ValueError(f"{what}: not an object")
    missing = keys - obj.keys()
    if missing:
        raise ValueError(f"{what}: missing {sorted(missing)}")


def link(l):
    need(l, LINK, "Link")
    if l["status"] not in ("up", "down", "degraded", "flapping", "unknown"):
        raise ValueError(f"Link status {l['status']}")


def node(n):
    need(n, NODE, "Node")
    if n["status"] not in ("up", "down", "degraded", "silent", "unknown"):
        raise ValueError(f"Node status {n['status']}")
    for l in n["uplinks"]:
        link(l)
    if not all(isinstance(v, bool) for v in n["reaches"].values()):
        raise ValueError("reaches: not booleans")


def alarm(a, root=True):
    need(a, ALARM, "Alarm")
    if a["type"] not in TYPES:
        raise ValueError(f"Alarm type {a['type']}")
    if a["severity"] not in (1, 2, 3):
        raise ValueError(f"Alarm severity {a['severity']}")
    if not isinstance(a["impact_nodes"], list) or not isinstance(a["impact_services"], list):
        raise ValueError("impact_*: not arrays")
    if root:
        for s in a.get("symptoms", []):
            alarm(s, False)


def check(kind, j):
    if kind == "status":
        need(j, {"version", "started_ms", "now_ms", "agents_connected", "nodes", "alarms_active", "samples_per_s"}, "status")
        need(j["nodes"], {"total", "up", "down", "degraded", "silent", "unknown"}, "status.nodes")
    elif kind == "nodes":
        ids = []
        for n in j["nodes"]:
            node(n)
            if n["parent"] is not None and n["parent"] not in ids:
                raise ValueError(f"node {n['id']} comes before its parent")
            ids.append(n["id"])
    elif kind == "node":
        node(j)
        need(j, {"interfaces", "probes", "alarms", "outages"}, "node detail")
        for i in j["interfaces"]:
            need(i, {"device", "ifname", "oper", "in_bps", "out_bps", "speed_bps"}, "interface")
        for p in j["probes"]:
            need(p, {"target", "rtt_ms", "loss_pct", "jitter_ms", "time_ms"}, "probe")
        for a in j["alarms"]:
            alarm(a, False)
        for o in j["outages"]:
            need(o, OUTAGE, "Outage")
    elif kind == "links":
        for l in j["links"]:
            link(l)
    elif kind == "services":
        for s in j["services"]:
            need(s, {"name", "kind", "host", "unreachable_from"}, "service")
            for u in s["unreachable_from"]:
                need(u, {"node", "alarm_id", "reason"}, "unreachable_from")
    elif kind == "alarms":
        for a in j["alarms"]:
            alarm(a)
    elif kind == "alarm":
        alarm(j, False)
    elif kind == "outages":
        for o in j["outages"]:
            need(o, OUTAGE, "Outage")
    elif kind == "maintenance":
        for m in j["maintenance"]:
            need(m, MAINT, "maintenance")
    elif kind == "window":
        need(j, MAINT, "maintenance window")
    elif kind == "series":
        for s in j["series"]:
            need(s, {"node", "source", "device", "object", "path"}, "series")
    elif kind == "error":
        if set(j) != {"error"} or not isinstance(j["error"], str) or not j["error"]:
            raise ValueError("not {\"error\": \"...\"}")
    else:
        raise ValueError(f"unknown kind {kind}")


if __name__ == "__main__":
    try:
        check(sys.argv[1], json.load(sys.stdin))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        print(f"{sys.argv[1]}: {e}", file=sys.stderr)
        sys.exit(1)
