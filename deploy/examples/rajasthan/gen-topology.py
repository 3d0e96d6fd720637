#!/usr/bin/env python3
"""Writes topology.yaml and secrets.yaml of the example full-state RajNet next to this script.

The data (districts, blocks, vendors, circuits) lives in the tables below so a reviewer reads it
in one place; the YAML is generated so that addresses, circuit ids and interface names stay
consistent. Re-run after editing a table:  deploy/examples/rajasthan/gen-topology.py

Addressing follows the simulated RajNet's plan (deploy/sim/README.md) so that any slice of this
file runs in deploy/sim/rajnet-sim: sdc 10.77.0.0/24, district number d in 10.77.d.0/24 (router
.1, block routers .11 .. .40, district VC bridge .10). Interface names are at most 15 characters.
"""
import os

# (id, circuit code, blocks): the 41 districts of Rajasthan since the reorganisation of
# 28 December 2024, which cancelled 9 of the 17 districts formed in August 2023 (anupgarh, dudu,
# gangapur-city, jaipur-rural, jodhpur-rural, kekri, neem-ka-thana, sanchore, shahpura) and the
# 3 new divisions: the 33 districts before 2023, then the 8 kept from 2023. The blocks of the
# cancelled districts are back under the districts they were carved from (listed after "|").
DISTRICTS = [
    ("ajmer", "AJM", "srinagar pisangan arain kishangarh roopangarh nasirabad pushkar"
                     " | kekri sarwar sawar bhinay tantoti"),
    ("alwar", "ALW", "umren ramgarh rajgarh laxmangarh kathumar thanagazi malakhera reni"),
    ("banswara", "BSW", "garhi ghatol kushalgarh bagidora sajjangarh anandpuri talwara"),
    ("baran", "BRN", "antah atru chhabra chhipabarod kishanganj shahabad mangrol"),
    ("barmer", "BMR", "baytu chohtan gudamalani ramsar sheo sindhari dhorimanna gadra-road"),
    ("bharatpur", "BTP", "bayana rupbas weir bhusawar sewar nadbai rudawal"),
    ("bhilwara", "BHL", "asind mandal mandalgarh banera raipur sahara hurda suwana"
                        " | shahpura kotri jahazpur phuliya-kalan kachhola"),
    ("bikaner", "BKN", "nokha kolayat lunkaransar dungargarh poogal bajju chhattargarh | khajuwala"),
    ("bundi", "BUN", "hindoli keshoraipatan nainwa talera indragarh lakheri kapren"),
    ("chittorgarh", "CTG", "begun bhadesar nimbahera kapasan rashmi gangrar dungla"),
    ("churu", "CHU", "ratangarh sardarshahar sujangarh taranagar rajgarh bidasar bhanipura"),
    ("dausa", "DAU", "bandikui baswa lalsot mahwa sikrai lawan nangal-rajawatan"),
    ("dholpur", "DHP", "bari baseri rajakhera saipau sarmathura manian kolari"),
    ("dungarpur", "DGP", "aspur bichhiwara sagwara simalwara sabla jhonthri galiyakot"),
    ("hanumangarh", "HMH", "bhadra nohar pilibanga rawatsar sangaria tibbi goluwala"),
    ("jaipur", "JPR", "sanganer amer bassi chaksu jamwa-ramgarh kotkhawada govindgarh"
                      " | phagi mauzamabad sambhar narena dudu"
                      " | chomu jobner phulera shahpura kishangarh-renwal madhorajpura jalsu"),
    ("jaisalmer", "JSM", "sam pokaran fatehgarh bhaniyana sankra mohangarh ramgarh"),
    ("jalore", "JLR", "ahore bhinmal jaswantpura sayla bagoda sankarna bhadrajun"
                      " | sanchore chitalwana raniwara sarnau hadecha"),
    ("jhalawar", "JLW", "aklera bakani dag jhalrapatan khanpur manohar-thana pirawa"),
    ("jhunjhunu", "JJN", "alsisar buhana chirawa khetri nawalgarh surajgarh udaipurwati"),
    ("jodhpur", "JDH", "mandore luni bhopalgarh osian bilara pipar-city jhanwar"
                       " | balesar shergarh bawari tinwari dechu sekhala setrawa"),
    ("karauli", "KRL", "hindaun nadoti sapotra todabhim mandrayal masalpur shri-mahaveerji"),
    ("kota", "KTA", "itawa ladpura sangod sultanpur ramganj-mandi digod kaithoon"),
    ("nagaur", "NGR", "jayal khinvsar merta degana mundwa riyan-bari bherunda"),
    ("pali", "PLI", "bali desuri jaitaran marwar-junction rani raipur sojat sumerpur"),
    ("pratapgarh", "PTG", "arnod chhoti-sadri dhariyawad peepalkhoont suhagpura dalot dhamotar"),
    ("rajsamand", "RJS", "amet bhim deogarh kumbhalgarh nathdwara railmagra khamnor"),
    ("sawai-madhopur", "SWM", "bonli chauth-ka-barwara khandar malarna-doongar kundera bhadoti sewa"
                              " | gangapur wazirpur bamanwas pilodpura udei-kalan"),
    ("sikar", "SKR", "dhod fatehpur laxmangarh piprali danta-ramgarh palsana losal"
                     " | neem-ka-thana sri-madhopur khandela patan ajitgarh kanwat thoi"),
    ("sirohi", "SRH", "abu-road pindwara reodar sheoganj mount-abu kalandri anadra"),
    ("sri-ganganagar", "SGN", "karanpur padampur raisinghnagar sadulshahar suratgarh kesrisinghpur"
                              " gajsinghpur | anupgarh gharsana rawla vijaynagar ramsinghpur"),
    ("tonk", "TNK", "deoli malpura niwai todaraisingh uniara peeplu nagarfort"),
    ("udaipur", "UDR", "girwa badgaon gogunda jhadol kotra mavli kherwara rishabhdeo"),
    ("balotra", "BLT", "siwana pachpadra kalyanpur samdari gida jasol sindhari-east"),
    ("beawar", "BWR", "jawaja masuda badnore tadgarh bijainagar raipur-marwar"),
    ("deeg", "DEG", "kaman nagar pahari kumher sikri jurhara"),
    ("didwana-kuchaman", "DDK", "ladnun makrana nawan parbatsar kuchaman-city didwana maulasar"),
    ("khairthal-tijara", "KHT", "kishangarh-bas tijara kotkasim mundawar harsoli khairthal"),
    ("kotputli-behror", "KTB", "kotputli behror bansur neemrana paota viratnagar narayanpur"),
    ("phalodi", "PHL", "phalodi baap lohawat aau bapini ghantiyali"),
    ("salumbar", "SLB", "salumbar sarada semari jhallara lasadiya"),
]
# Thar desert districts: block backups are VSAT (no terrestrial second path).
DESERT = {"barmer", "balotra", "bikaner", "jaisalmer", "phalodi"}
# Divisional HQs host a VC bridge (MCU cascade) for their districts.
DIVISIONS = ["ajmer", "bharatpur", "bikaner", "jaipur", "jodhpur", "kota", "udaipur"]

# Gram panchayat (village) sites: 20-32 under each block (about 26 on average, some 8,800 in
# all), named from common Rajasthani village-name stems and endings. Each has one router and one
# uplink to its block: a VSAT terminal (Hughes or Nelco) in the desert districts and where the
# hash says so, else an AirJaldi radio hop. They run no agent (`agent: false`): the block's
# agent probes them. Addresses: village j (counted across the state) is 10.77.(64 + j / 250).
# (1 + j % 250), inside the simulation's node range 10.77.0.0/17.
GP_STEMS = """ram shyam gopal kishan bhim hanuman lal man jai ratan sukh deo chand har mohan gang
    bhagat kesar naval sultan daulat fateh anand gordhan jagan madho mukund narayan padam raghu
    sawai shiv sur teja udai vijay bhoj bhairon khet kalyan kan laxmi moti nathu pratap rawat
    roop sanwal sarangi sobha sona tara thakur bhopal gudha hamir jaswant kheem lakha mahesh
    nimb parbat rupa sakhi sher""".split()
GP_ENDS = """pura garh sar sar-kalan nagar bas gaon khera kheri wali wara ser thal dhani
    ka-bas ki-dhani ji-ka-khera ka-gudha""".split()
GP_MIN, GP_SPREAD = 20, 13
HEAD = """\
# RajNet, the whole state: the state data centre (Jaipur), the 41 districts of Rajasthan (as
# reorganised in December 2024), their block HQs and the gram panchayat (village) sites under
# each block. Generated by gen-topology.py in this folder (edit its tables, not this file). SNMP
# credentials are named here and defined in secrets.yaml (mode 0600, the collector's user only).
#
# Links: every district has a BSNL MPLS primary to the sdc and a RailTel leased-line backup; a
# block has a primary (BSNL MPLS, RailTel leased or an AirJaldi radio hop) and, in about a third
# of the blocks and every block of the Thar districts, a backup (Hughes VSAT or radio). A
# village has one uplink to its block, VSAT or radio, and no agent of its own (`agent: false`):
# its block's agent probes it.
# Addresses follow deploy/sim/README.md's plan, so a slice of this file runs in the simulated
# RajNet (deploy/examples/rajasthan/slice-topology). Schema: rajnet-topology(5).

settings:
  poll_interval_s: 60     # SNMP interface polls
  probe_interval_s: 10    # ICMP probe rounds
  probe_count: 5          # echo requests per round

vendors:
  bsnl:     { name: BSNL, contact: "noc-rajasthan@bsnl.example" }
  railtel:  { name: RailTel Corporation, contact: "nmc@railtel.example" }
  airjaldi: { name: AirJaldi Radio, contact: "support@airjaldi.example" }
  hughes:   { name: Hughes Communications India (VSAT), contact: "hci-noc@hughes.example" }
  tatacomm: { name: Tata Communications, contact: "gsoc@tatacomm.example" }
  sify:     { name: Sify Technologies, contact: "noc@sify.example" }
  nelco:    { name: Nelco (VSAT), contact: "nms@nelco.example" }

sla_classes:
  dc:      { availability: 99.9, max_latency_ms: 20,  max_loss_pct: 0.1, max_jitter_ms: 5,  min_outage_s: 0 }
  dhq:     { availability: 99.5, max_latency_ms: 80,  max_loss_pct: 1.0, max_jitter_ms: 30, min_outage_s: 0 }
  dhq-bkp: { availability: 98.0, max_latency_ms: 120, max_loss_pct: 2.0, max_jitter_ms: 40, min_outage_s: 60 }
  bhq:     { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, max_jitter_ms: 50, min_outage_s: 60 }
  bhq-rf:  { availability: 97.5, max_latency_ms: 200, max_loss_pct: 3.0, max_jitter_ms: 60, min_outage_s: 120 }
  vsat:    { availability: 97.0, max_latency_ms: 800, max_loss_pct: 3.0, max_jitter_ms: 120, min_outage_s: 300 }
  gp:      { availability: 95.0, max_latency_ms: 900, max_loss_pct: 5.0, max_jitter_ms: 150, min_outage_s: 300 }
"""

def gp_names(bid, n):
    """n distinct village names for block bid, the same on every run (no random module)."""
    names, k = [], 0
    while len(names) < n:
        h = sum((i + 1) * ord(c) for i, c in enumerate("%s#%d" % (bid, k)))
        name = GP_STEMS[h % len(GP_STEMS)] + GP_ENDS[(h // len(GP_STEMS)) % len(GP_ENDS)]
        if GP_ENDS[(h // len(GP_STEMS)) % len(GP_ENDS)].startswith(("ka-", "ki-", "ji-", "sar-")):
            name = GP_STEMS[h % len(GP_STEMS)] + "-" + GP_ENDS[(h // len(GP_STEMS)) % len(GP_ENDS)]
        if name not in names and name != bid.split("/")[-1]:
            names.append(name)
        k += 1
    return names

def villages(topo, dist, code, di, bid, bi, h, j):
    """Appends the gram panchayat sites of block bid (block number bi of district number di);
    j counts villages so far (addresses). Returns the new count."""
    names = gp_names(bid, GP_MIN + h % GP_SPREAD)
    for gi, gp in enumerate(names, 1):
        g = sum(map(ord, gp)) + gi
        if dist in DESERT or g % 3 == 0:
            vendor, kind, mbps, charge, tag = ("hughes", "vsat", 2, 9800, "VSAT") if g % 2 else \
                                              ("nelco", "vsat", 2, 9200, "VSAT")
        else:
            vendor, kind, mbps, charge, tag = "airjaldi", "radio", 4, 4500, "RF"
        topo.append("  %s/%s:\n    tier: village\n    parent: %s\n    agent: false\n    devices:\n"
                    "      - { name: rtr1, addr: 10.77.%d.%d, snmp: { version: 2c, secret: %s-gp-ro } }\n"
                    "    uplinks:\n"
                    "      - { circuit: %s-B%02d-G%02d-%s-%d%02d%02d, vendor: %s, kind: %s, mbps: %d,"
                    " monthly_charge: %d, sla: gp,\n"
                    "          local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: g%02d-%s } }\n"
                    % (bid, gp, bid, 64 + j // 250, 1 + j % 250, code.lower(), code, bi, gi, tag, di, bi,
                       gi, vendor, kind, mbps, charge, gi, tag.lower()))
        j += 1
    return j

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    topo, sec = [HEAD], []
    sec.append("# SNMP secrets of the example full-state RajNet, referred to by name from topology.yaml.\n"
               "# EXAMPLE VALUES: generate your own. Install as /etc/rajnet/secrets.yaml, mode 0600,\n"
               "# owned by the collector's user (rajnet).\n")
    sec.append("sdc-core:   { auth: SHA-256, auth_key: sdc-core-auth-0001, priv: AES, priv_key: sdc-core-priv-0001 }\n")
    # services
    topo.append("services:\n")
    vc = ["{ node: sdc, addr: 10.77.0.10, tcp: [1720, 5060] }"]
    for d in DIVISIONS:
        n = [x[0] for x in DISTRICTS].index(d) + 1
        vc.append("{ node: %s, addr: 10.77.%d.10, tcp: [1720, 5060] }" % (d, n))
    topo.append("  vc:\n    kind: vc\n    endpoints:\n" + "".join("      - %s\n" % e for e in vc))
    egov = [("emitra", 20, "/emitra/health"), ("rajsso", 21, "/sso/health"),
            ("jan-aadhaar", 22, "/janaadhaar/health"), ("ifms-rajkosh", 23, "/ifms/health"),
            ("rajsampark", 24, "/rajsampark/health"), ("e-panchayat", 25, "/epanchayat/health")]
    for name, host, path in egov:
        topo.append("  %s:\n    kind: egov\n    endpoints:\n"
                    "      - { node: sdc, addr: 10.77.0.%d, tcp: [443], url: \"https://10.77.0.%d%s\" }\n"
                    % (name, host, host, path))
    topo.append("\nnodes:\n  sdc:\n    tier: sdc\n    devices:\n"
                "      - { name: core1, addr: 10.77.0.1, snmp: { version: 3, user: noc, secret: sdc-core } }\n"
                "      - { name: core2, addr: 10.77.0.2, snmp: { version: 3, user: noc, secret: sdc-core } }\n")
    nblocks = nvillages = 0
    for di, (dist, code, blocks) in enumerate(DISTRICTS, 1):
        blocks = blocks.replace("|", " ").split()
        assert len(code) <= 4 and len(blocks) <= 30 and len(set(blocks)) == len(blocks)
        sname = "%s-ro" % dist
        sec.append("%-26s { community: %s-%03x }\n" % (sname + ":", code.lower(), (di * 2654435761) % 4096))
        topo.append("\n  # --- %s: district %d, %d blocks ---\n" % (dist, di, len(blocks)))
        topo.append("  %s:\n    tier: district\n    parent: sdc\n    devices:\n"
                    "      - { name: rtr1, addr: 10.77.%d.1, snmp: { version: 2c, secret: %s } }\n"
                    "    uplinks:\n"
                    "      - { circuit: %s-MPLS-%04d, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq, role: primary,\n"
                    "          local: { device: rtr1, ifname: wan0 }, remote: { device: core1, ifname: %s } }\n"
                    "      - { circuit: %s-LL-%04d, vendor: railtel, kind: leased, mbps: 16, sla: dhq-bkp, role: backup,\n"
                    "          local: { device: rtr1, ifname: wan1 }, remote: { device: core2, ifname: %s } }\n"
                    % (dist, di, sname, code, 100 + di, code.lower() + "-mpls", code, 500 + di,
                       code.lower() + "-ll"))
        for bi, blk in enumerate(blocks, 1):
            nblocks += 1
            bid = "%s/%s" % (dist, blk)
            h = sum(map(ord, bid))
            desert = dist in DESERT
            if desert:
                prim = ("bsnl", "mpls", 8, "bhq", "MPLS") if h % 3 else ("railtel", "leased", 4, "bhq", "LL")
                bkp = ("hughes", "vsat", 2, "vsat", "VSAT")
            else:
                prim = [("bsnl", "mpls", 8, "bhq", "MPLS"), ("bsnl", "mpls", 8, "bhq", "MPLS"),
                        ("railtel", "leased", 4, "bhq", "LL"), ("airjaldi", "radio", 10, "bhq-rf", "RF"),
                        ("sify", "mpls", 8, "bhq", "MPLS"), ("tatacomm", "mpls", 8, "bhq", "MPLS")][h % 6]
                bkp = None
                if h % 3 == 0:
                    bkp = ("airjaldi", "radio", 10, "bhq-rf", "RF") if prim[0] != "airjaldi" else \
                          ("hughes", "vsat", 2, "vsat", "VSAT")
            v3 = bi == 1      # the first block of each district is on SNMPv3
            bsec = "%s-%s" % (code.lower(), "v3" if v3 else "blk-ro")
            snmp = "{ version: 3, user: blockmon, secret: %s }" % bsec if v3 else \
                   "{ version: 2c, secret: %s }" % bsec
            topo.append("  %s:\n    tier: block\n    parent: %s\n    devices:\n"
                        "      - { name: rtr1, addr: 10.77.%d.%d, snmp: %s }\n    uplinks:\n"
                        % (bid, dist, di, 10 + bi, snmp))
            for role, l, ifn in (("primary", prim, "p"), ("backup", bkp, "b")):
                if not l:
                    continue
                circ = "%s-B%02d-%s-%d%02d%d" % (code, bi, l[4], di, bi, 1 if role == "primary" else 2)
                topo.append("      - { circuit: %s, vendor: %s, kind: %s, mbps: %d, sla: %s, role: %s,\n"
                            "          local: { device: rtr1, ifname: %s }, remote: { device: rtr1, ifname: b%02d-%s } }\n"
                            % (circ, l[0], l[1], l[2], l[3], role, "wan0" if role == "primary" else "wan1",
                               bi, l[4].lower()))
            nvillages = villages(topo, dist, code, di, bid, bi, h, nvillages)
        sec.append("%-26s { community: %s-blk-%03x }\n" % (code.lower() + "-blk-ro:", code.lower(), (di * 40503) % 4096))
        sec.append("%-26s { community: %s-gp-%03x }\n" % (code.lower() + "-gp-ro:", code.lower(), (di * 48271) % 4096))
        sec.append("%-26s { auth: SHA, auth_key: %s-blk-auth-%02d, priv: AES, priv_key: %s-blk-priv-%02d }\n"
                   % (code.lower() + "-v3:", code.lower(), di, code.lower(), di))
    topo.append("\n# %d districts, %d blocks, %d villages.\n" % (len(DISTRICTS), nblocks, nvillages))
    with open(os.path.join(here, "topology.yaml"), "w") as f:
        f.write("".join(topo))
    with open(os.path.join(here, "secrets.yaml"), "w") as f:
        f.write("".join(sec))
    print("wrote topology.yaml (%d districts, %d blocks, %d villages) and secrets.yaml"
          % (len(DISTRICTS), nblocks, nvillages))

if __name__ == "__main__":
    main()
