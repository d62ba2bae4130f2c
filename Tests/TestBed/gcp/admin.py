"""The bed's own control API under /_gcp (unauthenticated, never a Google API). See README.md."""
import json
import os
import urllib.parse

from . import tokens_api
from .core import normalize_method_id

FAIL_KINDS_HELP = "an operation kind such as sql.promoteReplica, container.setSize, dns.change"


def handle(bed, ids, method, path, query, raw):
    """(status, JSON) for /_gcp/..."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError as e:
        return 400, {"error": f"body is not JSON: {e}"}
    parts = [p for p in path.split("/") if p][1:]
    key = (method, "/".join(parts[:1]))
    bed.advance()
    try:
        with bed.lock:
            if key == ("GET", "health"):
                return 200, {"status": "ok", "url": bed.base_url, "project": ids.default_project}
            if key == ("POST", "reset"):
                bed.reset()
                return 200, {"status": "reset"}
            if key == ("GET", "calls"):
                return 200, dict(bed.calls)
            if key == ("DELETE", "calls"):
                bed.calls.clear()
                bed.callers.clear()
                return 200, {}
            if key == ("GET", "callers"):
                return 200, [{"method": m, "principal": p, "quota_project": q, "calls": n}
                             for (m, p, q), n in sorted(bed.callers.items(), key=lambda i: tuple(str(x) for x in i[0]))]
            if key == ("GET", "violations"):
                return 200, list(bed.violations)
            if key == ("DELETE", "violations"):
                bed.violations.clear()
                return 200, []
            if key == ("POST", "faults"):
                bed.set_faults(body)
                return 200, {"rules": bed.rules}
            if key == ("GET", "faults"):
                return 200, {"rules": bed.rules}
            if key == ("DELETE", "faults"):
                bed.set_faults({})
                return 200, {"rules": []}
            if key == ("GET", "config"):
                return 200, bed.config
            if key == ("POST", "config"):
                return _config(bed, body)
            if key == ("POST", "fail-next"):
                # {"kind": "sql.promoteReplica", "times": 1, "message": "..."}: the next operation(s) of
                # that kind end DONE with error.errors[] instead of taking effect.
                kind = normalize_method_id(_required(body, "kind"))
                bed.fail_next[kind] += int(body.get("times", 1))
                if body.get("message"):
                    bed.config.setdefault("fail_messages", {})[kind] = body["message"]
                return 200, {"fail_next": dict(bed.fail_next)}
            if key == ("POST", "service-accounts"):
                info = ids.add_service_account(_required(body, "name"), body.get("project"),
                                               roles=tuple(body.get("roles", ["roles/editor"])))
                if body.get("write_to"):
                    write_secret_file(body["write_to"], info)
                return 200, info
            if key == ("POST", "users"):
                info = ids.add_user(_required(body, "email"), body.get("project"),
                                    roles=tuple(body.get("roles", ["roles/owner"])),
                                    quota_project=body.get("quota_project"))
                return 200, info
            if key == ("POST", "roles"):
                ids.grant(_required(body, "principal"), body.get("roles", []), body.get("project"))
                if body.get("revoke"):
                    ids.roles.get(body.get("project") or ids.default_project, {}).pop(body["principal"], None)
                return 200, {p: {k: sorted(v) for k, v in r.items()} for p, r in ids.roles.items()}
            if key == ("POST", "projects"):
                ids.add_project(_required(body, "project"), body.get("number"))
                return 200, ids.projects
            if key == ("POST", "impersonation"):
                ids.allow_impersonation(_required(body, "caller"), _required(body, "target"))
                return 200, {t: sorted(c) for t, c in ids.impersonation.items()}
            if key == ("POST", "tokens") and parts[1:] == ["expire"]:
                ids.expire_all()
                return 200, {"expired": len(ids.tokens)}
            if key == ("GET", "tokens"):
                # Principals and scopes only: the tokens themselves never leave the bed twice.
                return 200, [{"principal": t["principal"], "scopes": t["scopes"], "source": t["source"],
                              "expires_in": round(t["expires"] - bed.now())} for t in ids.tokens.values()]
            if key == ("GET", "subject-token"):
                token = tokens_api.issue_subject_token(bed, ids, query["audience"][0], query["subject"][0])
                return 200, {"id_token": token}
            if key == ("POST", "workload-identity"):
                return 200, workload_identity(bed, ids, body)
            svc = bed.services.get(parts[0]) if parts else None
            if svc is not None and hasattr(svc, "admin"):
                return svc.admin(method, parts[1:], query, body)
            return 404, {"error": f"no {method} {path}"}
    except (KeyError, ValueError, TypeError) as e:
        return 400, {"error": f"{type(e).__name__}: {e}"}


def _required(body, key):
    if not body.get(key):
        raise ValueError(f"missing {key!r}")
    return body[key]


def _config(bed, body):
    for k, v in body.items():
        if k not in ("token_lifetime", "durations"):
            raise ValueError(f"unknown config key {k!r}")
        if k == "token_lifetime" and (not isinstance(v, (int, float)) or v < 0):
            raise ValueError("token_lifetime must be seconds >= 0")
        if k == "durations":
            for kind, s in v.items():
                if not isinstance(s, (int, float)) or s < 0:
                    raise ValueError(f"duration of {kind} must be seconds >= 0")
            bed.config.setdefault("durations", {}).update({normalize_method_id(a): b for a, b in v.items()})
        else:
            bed.config[k] = v
    return 200, bed.config


def write_secret_file(path, content):
    """JSON (a dict) or text, mode 0600, replaced atomically."""
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content, indent=2))
    os.replace(path + ".tmp", path)


def workload_identity(bed, ids, body):
    """Registers pool/provider, issues a subject token for `subject` and (with `token_file`) writes it
    there and returns the matching external_account file; `impersonate` grants the federated principal
    impersonation of that service account and names it in the file."""
    pool, provider = body.get("pool", "drctl-pool"), body.get("provider", "drctl-oidc")
    audience = tokens_api.register_provider(ids, pool, provider)
    subject = body.get("subject", "drctl-ci")
    token = tokens_api.issue_subject_token(bed, ids, audience, subject, int(body.get("lifetime", 3600)))
    principal = tokens_api.federated_principal(ids, audience, subject)
    if body.get("roles"):
        ids.grant(principal, body["roles"], body.get("project"))
    info = {"type": "external_account", "audience": audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": f"{bed.base_url}/sts/v1/token", "universe_domain": "googleapis.com"}
    if body.get("token_file"):
        write_secret_file(body["token_file"], token)
        info["credential_source"] = {"file": body["token_file"]}
    else:
        # URL-sourced: every read of this URL is a fresh subject token (as an IdP's token endpoint).
        info["credential_source"] = {"url": f"{bed.base_url}/_gcp/subject-token?" + urllib.parse.urlencode(
            {"audience": audience, "subject": subject}),
            "format": {"type": "json", "subject_token_field_name": "id_token"}}
    if body.get("impersonate"):
        ids.allow_impersonation(principal, body["impersonate"])
        info["service_account_impersonation_url"] = (
            f"{bed.base_url}/iamcredentials/v1/projects/-/serviceAccounts/{body['impersonate']}:generateAccessToken")
    return {"audience": audience, "principal": principal, "subject_token": token, "external_account": info}
