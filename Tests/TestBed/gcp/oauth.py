"""Where tokens come from: the OAuth2 token endpoint (service-account JWT bearer grant, verified by
google-auth itself, and the refresh-token grant of gcloud ADC files) and the GCE metadata server.

References:
- JWT bearer grant: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
  (RFC 7523); errors as RFC 6749 section 5.2.
- Metadata server: https://cloud.google.com/compute/docs/metadata/querying-metadata and
  https://cloud.google.com/compute/docs/access/authenticate-workloads#applications
"""
import json
import urllib.parse

import google.auth.exceptions
from google.auth import jwt

from .core import GoogleError, OAuthError, rfc3339

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_LIFETIME = 3600   # Google refuses assertions valid for more than an hour
CLOCK_SKEW = 300
GOOGLE_AUDIENCES = ["https://oauth2.googleapis.com/token", "https://www.googleapis.com/oauth2/v4/token"]


def parse_form(headers, body):
    ctype = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_request", f"Content-Type must be application/x-www-form-urlencoded, "
                                                 f"not {ctype or 'missing'}")
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as e:
        raise OAuthError(400, "invalid_request", f"malformed form body: {e}")
    dup = [k for k, v in form.items() if len(v) > 1]
    if dup:
        raise OAuthError(400, "invalid_request", f"parameter {dup[0]} given more than once")
    return {k: v[0] for k, v in form.items()}


def token_endpoint(bed, ids, headers, body):
    """POST /oauth2/token."""
    form = parse_form(headers, body)
    grant = form.get("grant_type")
    if grant == JWT_BEARER:
        return _jwt_bearer(bed, ids, form)
    if grant == "refresh_token":
        return _refresh(ids, form)
    if grant is None:
        raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
    raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")


def _jwt_bearer(bed, ids, form):
    unknown = set(form) - {"grant_type", "assertion"}
    if unknown:
        raise OAuthError(400, "invalid_request", f"unexpected parameter(s) {sorted(unknown)}")
    assertion = form.get("assertion")
    if not assertion:
        raise OAuthError(400, "invalid_request", "Missing required parameter: assertion")
    try:
        claims = jwt.decode(assertion, verify=False)
        header = jwt.decode_header(assertion)
    except (ValueError, google.auth.exceptions.GoogleAuthError) as e:
        raise OAuthError(400, "invalid_grant", f"Invalid JWT: {e}")
    if header.get("alg") != "RS256":
        raise OAuthError(400, "invalid_grant", f"Invalid JWT: alg must be RS256, not {header.get('alg')!r}")
    sa = ids.service_accounts.get(claims.get("iss"))
    if sa is None:
        raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
    if header.get("kid") not in sa["keys"]:
        raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
    token_uri = f"{bed.base_url}/oauth2/token"
    try:
        # google-auth checks the RS256 signature against the key's certificate, aud, iat and exp. The
        # audience: the key file's token_uri, or Google's own endpoint, which google-auth always puts in
        # `aud` whatever token_uri says (service_account.py _GOOGLE_OAUTH2_TOKEN_ENDPOINT), and which
        # Google's endpoint accepts along with its older v4 name.
        jwt.decode(assertion, certs=sa["keys"], audience=[token_uri] + GOOGLE_AUDIENCES,
                   clock_skew_in_seconds=CLOCK_SKEW)
    except google.auth.exceptions.GoogleAuthError as e:
        text = str(e)
        if "signature" in text.lower():
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        if "audience" in text.lower():
            raise OAuthError(400, "invalid_grant", f"Invalid JWT: audience must be {token_uri}")
        raise OAuthError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and "
                                               "in a reasonable timeframe. Check your iat and exp values in the "
                                               "JWT claim.")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > MAX_LIFETIME or exp <= iat:
        raise OAuthError(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                                               "a reasonable timeframe. Check your iat and exp values in the JWT "
                                               "claim.")
    if claims.get("sub") not in (None, claims["iss"]):
        # Domain-wide delegation is not set up for any account in the bed.
        raise OAuthError(401, "unauthorized_client", "Client is unauthorized to retrieve access tokens using "
                                                     "this method, or client not authorized for any of the "
                                                     "scopes requested.")
    scopes = (claims.get("scope") or "").split()
    if not scopes or not all(s.startswith("https://www.googleapis.com/auth/") or s in ("openid", "email")
                             for s in scopes):
        raise OAuthError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    token, lifetime = ids.issue(claims["iss"], scopes, "jwt-bearer")
    return {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}


def _refresh(ids, form):
    for k in ("client_id", "client_secret", "refresh_token"):
        if not form.get(k):
            raise OAuthError(400, "invalid_request", f"Missing required parameter: {k}")
    if ids.clients.get(form["client_id"]) != form["client_secret"]:
        raise OAuthError(401, "invalid_client", "Unauthorized")
    rec = ids.refresh_tokens.get(form["refresh_token"])
    if rec is None or rec["client_id"] != form["client_id"]:
        raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
    scopes = rec["scopes"]
    if form.get("scope"):
        # A refresh may narrow the consented scopes, never widen them (RFC 6749 section 6).
        asked = form["scope"].split()
        if not set(asked) <= set(rec["scopes"]):
            raise OAuthError(400, "invalid_scope", "Bad Request")
        scopes = asked
    token, lifetime = ids.issue(rec["principal"], scopes, "refresh-token")
    return {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(scopes)}


class MetadataServer:
    """GET /computeMetadata/v1/... as a GCE VM answers it, for the `default` service account."""

    def __init__(self, bed, ids, email):
        self.bed, self.ids, self.email = bed, ids, email
        self.default_scopes = ["https://www.googleapis.com/auth/cloud-platform",
                               "https://www.googleapis.com/auth/userinfo.email"]

    def handle(self, method, path, query, headers):
        """(status, content type, body bytes). The caller adds `Metadata-Flavor: Google`."""
        if headers.get("Metadata-Flavor") != "Google":
            # The real server answers 403 with an HTML page naming the missing header.
            return 403, "text/html; charset=UTF-8", (b"Your client does not have permission to get URL "
                                                     b"from this server. Missing Metadata-Flavor:Google header.")
        if method != "GET":
            return 405, "text/html; charset=UTF-8", b"Method Not Allowed"
        if headers.get("X-Forwarded-For"):
            return 403, "text/html; charset=UTF-8", b"Request had an X-Forwarded-For header."
        if path in ("/", ""):
            return 200, "application/text", b"computeMetadata/\n"
        rest = path[len("/computeMetadata/v1/"):] if path.startswith("/computeMetadata/v1/") else None
        if rest is None:
            return 404, "text/html; charset=UTF-8", b"Not Found"
        project = self.ids.default_project
        sa = "instance/service-accounts/"
        for alias in ("default", self.email):
            rest = rest.replace(sa + alias + "/", sa + "default/") if rest.startswith(sa + alias + "/") else rest
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        if rest == "instance/service-accounts/default/token":
            scopes = self.default_scopes
            if "scopes" in query:
                scopes = [s for v in query["scopes"] for s in v.split(",") if s]
            token, lifetime = self.ids.issue(self.email, scopes, "metadata")
            return 200, "application/json", json.dumps(
                {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}).encode()
        if rest == "instance/service-accounts/default/" and recursive:
            return 200, "application/json", json.dumps(
                {"aliases": ["default"], "email": self.email, "scopes": self.default_scopes}).encode()
        values = {
            "instance/service-accounts/default/email": self.email,
            "instance/service-accounts/default/scopes": "\n".join(self.default_scopes),
            "instance/service-accounts/": "default/\n" + self.email + "/\n",
            "project/project-id": project,
            "project/numeric-project-id": self.ids.projects[project]["number"],
            "instance/zone": f"projects/{self.ids.projects[project]['number']}/zones/us-central1-a",
            "instance/id": "4520031799277581759",
            "universe/universe-domain": "googleapis.com",
        }
        if rest in values:
            return 200, "application/text", values[rest].encode()
        return 404, "text/html; charset=UTF-8", b"Not Found"


def generate_access_token(bed, ids, caller, target, body):
    """iamcredentials.projects.serviceAccounts.generateAccessToken: the caller must be allowed to
    impersonate the target (roles/iam.serviceAccountTokenCreator on it).
    https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken"""
    if target not in ids.service_accounts:
        raise GoogleError(404, f"Not found; Gaia id not found for email {target}", reason="notFound")
    if caller["principal"] not in ids.impersonation.get(target, set()):
        raise GoogleError(403, "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                               "(or it may not exist).", reason="forbidden",
                          details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                    "reason": "IAM_PERMISSION_DENIED", "domain": "iam.googleapis.com"}])
    scopes = body.get("scope") or []
    if not scopes:
        raise GoogleError(400, "Scope required.", reason="badRequest")
    lifetime = body.get("lifetime", "3600s")
    try:
        seconds = int(float(lifetime.rstrip("s")))
    except (ValueError, AttributeError):
        raise GoogleError(400, f"Invalid value at 'lifetime' ({lifetime!r})", reason="badRequest")
    if not lifetime.endswith("s") or not 0 < seconds <= 3600:
        raise GoogleError(400, "The lifetime must be between 1s and 3600s.", reason="badRequest")
    token, lifetime = ids.issue(target, scopes, "impersonation", lifetime=seconds)
    # Whole seconds, as Google answers (google-auth parses exactly "%Y-%m-%dT%H:%M:%SZ").
    return {"accessToken": token, "expireTime": rfc3339(int(bed.now() + lifetime)).replace(".000Z", "Z")}
