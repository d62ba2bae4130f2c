"""One API request on its way to a stand-in: who calls (bearer token), what the discovery document
says about it (validated), and which project it touches (role check)."""
import json
import re

from . import oauth
from .core import GoogleError
from .validate import parse_form_as_schema, validate_body, validate_query
from .discovery import Violation

# Methods that authenticate otherwise: STS exchanges a subject token for the first access token.
UNAUTHENTICATED = {"sts.token"}


class ApiRequest:
    def __init__(self, bed, ids, method, path_params, query, raw_body, headers, raw_path):
        self.bed, self.ids, self.method = bed, ids, method
        self.path_params, self.query, self.raw_body = path_params, query, raw_body
        self.headers, self.raw_path = headers, raw_path
        self.caller, self.body, self.params = None, None, {}

    # ---- checks, in the order Google's front end applies them -----------------------------------
    def authenticate(self):
        if self.method.id in UNAUTHENTICATED:
            return
        self.caller = self.ids.caller(self.headers)
        self.ids.check_scopes(self.caller, self.method.scopes, self.method.id)
        self.ids.check_quota_project(self.headers)
        # Who made the call and who it was billed to (`GET /_gcp/callers`).
        self.bed.callers[(self.method.id, self.caller["principal"], self.headers.get("x-goog-user-project"))] += 1

    def validate(self):
        """Query and body against the discovery document; a violation is recorded and answered 400."""
        try:
            self.params = validate_query(self.method, self.query)
            self.params.update(self.path_params)
            self.body = self._parse_body()
        except Violation as e:
            self.bed.violation(self.method.id, self.raw_path, e.field, e.problem)
            raise GoogleError(400, f"Invalid value at '{e.field}': {e.problem}", reason="invalid",
                              details=[{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                        "fieldViolations": [{"field": e.field, "description": e.problem}]}])
        if self.caller is not None:
            project = self.project()
            if project is not None:
                self.authorize(project)

    def _parse_body(self):
        schema = self.method.request_schema
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not self.raw_body:
            if schema and self.method.http_method in ("POST", "PUT", "PATCH") and self.method.id != "sts.token":
                return validate_body(self.method, {})
            return {}
        if schema is None:
            if self.raw_body.strip() == b"{}":
                return {}  # an empty object is the JSON spelling of "no body"
            raise Violation("body", f"{self.method.id} takes no request body")
        if ctype == "application/x-www-form-urlencoded" and self.method.id == "sts.token":
            # STS takes its OAuth 2.0 token-exchange form (RFC 8693) as well as JSON; google-auth sends the form.
            return parse_form_as_schema(self.method, oauth.parse_form(self.headers, self.raw_body))
        if ctype != "application/json":
            raise Violation("Content-Type", f"expected application/json, found {ctype or 'none'}")
        try:
            body = json.loads(self.raw_body)
        except ValueError as e:
            raise Violation("body", f"not JSON: {e}")
        return validate_body(self.method, body)

    def project(self):
        """The project a request names: a `project` path parameter, `projects/P/...` in a resource
        name, or `projectId` in the query or the filter (Storage Transfer)."""
        for key in ("project", "projectId"):
            if self.params.get(key):
                return self.params[key]
        for value in self.path_params.values():
            m = re.match(r"^projects/([^/]+)", value)
            if m and m.group(1) != "-":
                return m.group(1)
        flt = self.params.get("filter")
        if isinstance(flt, str) and flt.startswith("{"):
            try:
                return json.loads(flt).get("projectId") or json.loads(flt).get("project_id")
            except (ValueError, AttributeError):
                return None
        return None

    def authorize(self, project):
        self.ids.check_project(self.caller, project, read_only=self.method.http_method == "GET")


def register_services(bed, ids):
    """method id -> handler(ApiRequest) -> (status, JSON body), from every stand-in module."""
    from . import cloudsql_actions, dns, gke, monitoring, tokens_api, transfer
    handlers = {}
    for module in (cloudsql_actions, dns, gke, monitoring, transfer, tokens_api):
        module.register(bed, ids, handlers)
    return handlers
