"""Cloud DNS v1 stand-in: managed zones, record sets and atomic changes.

Reference: https://cloud.google.com/dns/docs/reference/rest/v1/changes/create. A change is applied
all or nothing: every deletion must equal a current record set exactly (name, type, ttl and rrdatas)
or the change fails with 412 conditionNotMet, so a client that deletes what it read cannot clobber a
record someone else changed; an addition of a name/type that exists and is not deleted in the same
change is 409 alreadyExists. The change is `pending` for `dns.change` seconds, then `done`.
"""
import copy

from .core import GoogleError, rfc3339

DEFAULT_PROPAGATION = 2


class CloudDNS:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.zones = {}  # (project, zone name) -> {"zone": ManagedZone, "rrsets": {(name, type): rrset}, "changes": []}

    def zone(self, project, name):
        z = self.zones.get((project, name))
        if z is None:
            raise GoogleError(404, f"The 'parameters.managedZone' resource named '{name}' does not exist.",
                              reason="notFound")
        return z

    def seed(self, spec):
        project = spec.get("project") or self.bed.services["identities"].default_project
        dns_name = spec["dnsName"] if spec["dnsName"].endswith(".") else spec["dnsName"] + "."
        zone = {"kind": "dns#managedZone", "name": spec["name"], "dnsName": dns_name,
                "id": str(1000000 + len(self.zones)), "description": spec.get("description", ""),
                "visibility": spec.get("visibility", "public"), "creationTime": rfc3339(self.bed.now() - 86400),
                "nameServers": [f"ns-cloud-a{i}.googledomains.com." for i in range(1, 5)]}
        rrsets = {}
        for r in [{"name": dns_name, "type": "SOA", "ttl": 21600,
                   "rrdatas": ["ns-cloud-a1.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300"]},
                  {"name": dns_name, "type": "NS", "ttl": 21600, "rrdatas": zone["nameServers"]}] + spec.get("records", []):
            rr = {"kind": "dns#resourceRecordSet", **r}
            rrsets[(rr["name"], rr["type"])] = rr
        self.zones[(project, spec["name"])] = {"zone": zone, "rrsets": rrsets, "changes": []}
        return self.admin_view(project, spec["name"])

    def admin_view(self, project, name):
        z = self.zones[(project, name)]
        return {"project": project, "zone": z["zone"], "rrsets": list(z["rrsets"].values()),
                "changes": [self.change_view(c) for c in z["changes"]]}

    def change_view(self, c):
        out = {k: v for k, v in copy.deepcopy(c).items() if not k.startswith("_")}
        out["status"] = "done" if self.bed.now() >= c["_done_at"] else "pending"
        return out

    def admin(self, method, parts, query, body):
        if method == "POST" and parts == ["zones"]:
            return 200, self.seed(body)
        if method == "GET" and parts == ["zones"]:
            return 200, [self.admin_view(p, n) for p, n in self.zones]
        return 404, {"error": f"no {method} /_gcp/dns/{'/'.join(parts)}"}

    def create_change(self, project, zone_name, body):
        z = self.zone(project, zone_name)
        suffix = z["zone"]["dnsName"]
        current = z["rrsets"]
        after = dict(current)
        for i, d in enumerate(body.get("deletions", [])):
            key = (d.get("name"), d.get("type"))
            have = current.get(key)
            if have is None or not _same(have, d):
                raise GoogleError(412, f"Precondition not met for 'entity.change.deletions[{i}]'",
                                  status="FAILED_PRECONDITION", reason="conditionNotMet")
            del after[key]
        for i, a in enumerate(body.get("additions", [])):
            name, rtype = a.get("name", ""), a.get("type")
            if not name.endswith(".") or not (name == suffix or name.endswith("." + suffix)):
                raise GoogleError(400, f"Invalid value for 'entity.change.additions[{i}].name': '{name}'",
                                  reason="invalid")
            if not rtype or not a.get("rrdatas"):
                raise GoogleError(400, f"The 'entity.change.additions[{i}].rrdata' parameter is required but "
                                       "was missing", reason="required")
            if (name, rtype) in after:
                raise GoogleError(409, f"The resource 'entity.change.additions[{i}]' named '{name} ({rtype})' "
                                       "already exists", status="ALREADY_EXISTS", reason="alreadyExists")
            after[(name, rtype)] = {"kind": "dns#resourceRecordSet", "name": name, "type": rtype,
                                    "ttl": int(a.get("ttl", 300)), "rrdatas": list(a["rrdatas"])}
        if not body.get("deletions") and not body.get("additions"):
            raise GoogleError(400, "The 'entity.change' parameter is required but was missing", reason="required")
        z["rrsets"] = after
        now = self.bed.now()
        delay = self.bed.config.get("durations", {}).get("dns.change", DEFAULT_PROPAGATION)
        change = {"kind": "dns#change", "id": str(len(z["changes"]) + 1), "startTime": rfc3339(now),
                  "additions": body.get("additions", []), "deletions": body.get("deletions", []),
                  "isServing": True, "_done_at": now + delay}
        z["changes"].append(change)
        return self.change_view(change)


def _same(a, b):
    return (a.get("name"), a.get("type"), int(a.get("ttl", 0)), sorted(a.get("rrdatas", []))) == \
           (b.get("name"), b.get("type"), int(b.get("ttl", 0) or 0), sorted(b.get("rrdatas", [])))


def register(bed, ids, handlers):
    dns = bed.services.setdefault("dns", CloudDNS(bed))

    def zone_get(req):
        return 200, dns.zone(req.params["project"], req.params["managedZone"])["zone"]

    def rrsets_list(req):
        z = dns.zone(req.params["project"], req.params["managedZone"])
        name, rtype = req.params.get("name"), req.params.get("type")
        if rtype and not name:
            raise GoogleError(400, "The 'parameters.name' parameter is required when 'parameters.type' is given",
                              reason="required")
        items = [r for r in sorted(z["rrsets"].values(), key=lambda r: (r["name"], r["type"]))
                 if (not name or r["name"] == name) and (not rtype or r["type"] == rtype)]
        size = int(req.params.get("maxResults") or 1000)
        start = int(req.params.get("pageToken") or 0)
        out = {"kind": "dns#resourceRecordSetsListResponse", "rrsets": items[start:start + size]}
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return 200, out

    def change_create(req):
        return 200, dns.create_change(req.params["project"], req.params["managedZone"], req.body)

    def change_get(req):
        z = dns.zone(req.params["project"], req.params["managedZone"])
        for c in z["changes"]:
            if c["id"] == req.params["changeId"]:
                return 200, dns.change_view(c)
        raise GoogleError(404, f"The 'parameters.changeId' resource named '{req.params['changeId']}' does not exist.",
                          reason="notFound")

    handlers.update({"dns.managedZones.get": zone_get, "dns.resourceRecordSets.list": rrsets_list,
                     "dns.changes.create": change_create, "dns.changes.get": change_get})
