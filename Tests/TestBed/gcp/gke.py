"""GKE v1 stand-in: clusters with node pools, setSize / setAutoscaling as Operations.

Reference: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools/setSize
and .../projects.locations.operations. A resize is an Operation (SET_NODE_POOL_SIZE; setAutoscaling
is UPDATE_CLUSTER) that is RUNNING for `container.setSize` / `container.setAutoscaling` seconds while
the pool is RECONCILING; at DONE the nodes are there (the cluster's `currentNodeCount` and the
admin view's `nodeCount` change then) and the pool is RUNNING again. One operation at a time per
cluster: another one meanwhile is 400 FAILED_PRECONDITION, as GKE answers.
"""
import copy
import secrets

from .core import GoogleError, rfc3339

DEFAULT_DURATIONS = {"container.setSize": 3, "container.setAutoscaling": 2}


class GKE:
    def __init__(self, bed):
        self.bed = bed
        self.reset()

    def reset(self):
        self.clusters = {}    # (project, location, name) -> {"cluster": {...}, "pools": {name: pool}, "busy": op name}
        self.operations = {}  # (project, location, op name) -> Operation + "_done", "_start"

    def link(self, *parts):
        return f"{self.bed.base_url}/container/v1/" + "/".join(parts)

    def cluster(self, project, location, name):
        c = self.clusters.get((project, location, name))
        if c is None:
            raise GoogleError(404, f"Not found: projects/{project}/locations/{location}/clusters/{name}.",
                              reason="notFound")
        return c

    def pool(self, project, location, cluster, name):
        c = self.cluster(project, location, cluster)
        if name not in c["pools"]:
            raise GoogleError(404, f"Not found: projects/{project}/locations/{location}/clusters/{cluster}/"
                                   f"nodePools/{name}.", reason="notFound")
        return c, c["pools"][name]

    def seed(self, spec):
        project = spec.get("project") or self.bed.services["identities"].default_project
        loc, name = spec.get("location", "us-central1"), spec["name"]
        base = f"projects/{project}/locations/{loc}/clusters/{name}"
        pools = {}
        for p in spec.get("nodePools", [{"name": "default-pool", "nodeCount": 0}]):
            pool = {"name": p["name"], "status": "RUNNING", "initialNodeCount": p.get("nodeCount", 0),
                    "version": "1.30.5-gke.1014001", "locations": [f"{loc}-a", f"{loc}-b", f"{loc}-c"],
                    "config": {"machineType": p.get("machineType", "e2-standard-4"), "diskSizeGb": 100},
                    "selfLink": self.link(base, "nodePools", p["name"]), "etag": secrets.token_hex(8),
                    "_nodeCount": p.get("nodeCount", 0)}
            if p.get("autoscaling"):
                pool["autoscaling"] = dict(p["autoscaling"])
            pool["instanceGroupUrls"] = [f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{z}/"
                                         f"instanceGroupManagers/gke-{name}-{p['name']}-grp" for z in pool["locations"]]
            pools[p["name"]] = pool
        cluster = {"name": name, "location": loc, "status": "RUNNING", "selfLink": self.link(base),
                   "currentMasterVersion": "1.30.5-gke.1014001", "endpoint": "203.0.113.20",
                   "createTime": rfc3339(self.bed.now() - 86400)}
        self.clusters[(project, loc, name)] = {"cluster": cluster, "pools": pools, "busy": None}
        return self.cluster_view(project, loc, name, admin=True)

    def cluster_view(self, project, loc, name, admin=False):
        c = self.clusters[(project, loc, name)]
        out = copy.deepcopy(c["cluster"])
        out["nodePools"] = [self.pool_view(p, admin) for p in c["pools"].values()]
        out["currentNodeCount"] = sum(p["_nodeCount"] for p in c["pools"].values())
        if any(p["status"] != "RUNNING" for p in c["pools"].values()):
            out["status"] = "RECONCILING"
        if admin:
            out["project"] = project
        return out

    def pool_view(self, pool, admin=False):
        out = copy.deepcopy(pool)
        count = out.pop("_nodeCount")
        if admin:
            out["nodeCount"] = count
        return out

    def admin(self, method, parts, query, body):
        if method == "POST" and parts == ["clusters"]:
            return 200, self.seed(body)
        if method == "GET" and parts == ["clusters"]:
            return 200, [self.cluster_view(*k, admin=True) for k in self.clusters]
        if method == "GET" and parts == ["operations"]:
            return 200, [self.op_view(o) for o in self.operations.values()]
        return 404, {"error": f"no {method} /_gcp/container/{'/'.join(parts)}"}

    def start(self, project, loc, cluster_name, pool, kind, op_type, effect):
        c = self.cluster(project, loc, cluster_name)
        if c["busy"]:
            raise GoogleError(400, f"Cluster is running incompatible operation {c['busy']}.",
                              status="FAILED_PRECONDITION", reason="failedPrecondition")
        now = self.bed.now()
        duration = self.bed.config.get("durations", {}).get(kind, DEFAULT_DURATIONS[kind])
        name = f"operation-{int(now * 1000)}-{secrets.token_hex(4)}"
        base = f"projects/{project}/locations/{loc}"
        op = {"name": name, "zone": loc, "location": loc, "operationType": op_type,
              "selfLink": self.link(base, "operations", name),
              "targetLink": pool["selfLink"], "startTime": rfc3339(now), "_start": now + min(0.5, duration / 4),
              "_done": False}
        fail = self.bed.fail_next[kind] > 0
        if fail:
            self.bed.fail_next[kind] -= 1
        self.operations[(project, loc, name)] = op
        c["busy"] = name
        pool["status"] = "RECONCILING"

        def finish():
            c["busy"] = None
            pool["status"] = "RUNNING"
            op["_done"] = True
            op["endTime"] = rfc3339(self.bed.now())
            if fail:
                msg = self.bed.config.get("fail_messages", {}).get(kind, "Insufficient regional quota to satisfy "
                                                                         "request: resource \"CPUS\".")
                op["error"] = {"code": 8, "message": msg}
                op["statusMessage"] = msg
            else:
                effect()

        self.bed.after(duration, finish)
        return self.op_view(op)

    def op_view(self, op):
        out = {k: v for k, v in copy.deepcopy(op).items() if not k.startswith("_")}
        out["status"] = "DONE" if op["_done"] else ("RUNNING" if self.bed.now() >= op["_start"] else "PENDING")
        return out


def _names(name):
    parts = name.split("/")  # projects/P/locations/L/clusters/C[/nodePools/N]
    return parts[1], parts[3], parts[5], (parts[7] if len(parts) > 7 else None)


def register(bed, ids, handlers):
    gke = bed.services.setdefault("container", GKE(bed))

    def cluster_get(req):
        p, loc, c, _ = _names(req.params["name"])
        gke.cluster(p, loc, c)
        return 200, gke.cluster_view(p, loc, c)

    def pool_get(req):
        p, loc, c, n = _names(req.params["name"])
        return 200, gke.pool_view(gke.pool(p, loc, c, n)[1])

    def set_size(req):
        p, loc, c, n = _names(req.params["name"])
        _, pool = gke.pool(p, loc, c, n)
        count = req.body.get("nodeCount")
        if count is None or int(count) < 0:
            raise GoogleError(400, "Invalid value for field 'nodeCount': must be >= 0.", reason="invalid")

        def effect():
            pool["_nodeCount"] = int(count)
        return 200, gke.start(p, loc, c, pool, "container.setSize", "SET_NODE_POOL_SIZE", effect)

    def set_autoscaling(req):
        p, loc, c, n = _names(req.params["name"])
        _, pool = gke.pool(p, loc, c, n)
        auto = req.body.get("autoscaling") or {}
        lo, hi = int(auto.get("minNodeCount", 0)), int(auto.get("maxNodeCount", 0))
        if auto.get("enabled") and (lo < 0 or hi < lo or hi == 0):
            raise GoogleError(400, "Invalid value for field 'autoscaling': max_node_count must be >= "
                                   "min_node_count and > 0.", reason="invalid")

        def effect():
            pool["autoscaling"] = dict(auto)
            if auto.get("enabled"):  # the autoscaler brings the pool into its new range
                pool["_nodeCount"] = min(max(pool["_nodeCount"], lo), hi)
        return 200, gke.start(p, loc, c, pool, "container.setAutoscaling", "UPDATE_CLUSTER", effect)

    def op_get(req):
        parts = req.params["name"].split("/")
        op = gke.operations.get((parts[1], parts[3], parts[5]))
        if op is None:
            raise GoogleError(404, f"Not found: {req.params['name']}.", reason="notFound")
        return 200, gke.op_view(op)

    base = "container.projects.locations.clusters"
    handlers.update({f"{base}.get": cluster_get, f"{base}.nodePools.get": pool_get,
                     f"{base}.nodePools.setSize": set_size, f"{base}.nodePools.setAutoscaling": set_autoscaling,
                     "container.projects.locations.operations.get": op_get})
