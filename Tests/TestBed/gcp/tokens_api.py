"""The two token APIs behind `external_account` files and impersonation:

- STS `v1/token` (RFC 8693 token exchange,
  https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token): a subject token from an
  external identity provider (here: the bed's own OIDC issuer, see `issue_subject_token`) becomes a
  federated access token for `principal://.../workloadIdentityPools/POOL/subject/SUB`.
- IAM Credentials `generateAccessToken`: a token for a service account, for a caller allowed to
  impersonate it.
"""
import secrets

from google.auth import crypt, jwt
import google.auth.exceptions

from .core import OAuthError
from .identity import new_key_pair
from .oauth import generate_access_token

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TYPES = {"urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token"}


def register(bed, ids, handlers):
    def generate(req):
        target = req.path_params["name"].rsplit("/", 1)[1]
        return 200, generate_access_token(bed, ids, req.caller, target, req.body)

    def exchange(req):
        return 200, sts_exchange(bed, ids, req.body)

    handlers["iamcredentials.projects.serviceAccounts.generateAccessToken"] = generate
    handlers["sts.token"] = exchange


def _issuer(ids):
    if ids.subject_issuer is None:
        pem, cert = new_key_pair("drctl-testbed-oidc")
        ids.subject_issuer = {"key_id": secrets.token_hex(8), "private_key": pem, "cert": cert, "providers": {}}
    return ids.subject_issuer


def provider_audience(ids, pool, provider):
    number = ids.projects[ids.default_project]["number"]
    return f"//iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider}"


def register_provider(ids, pool, provider):
    audience = provider_audience(ids, pool, provider)
    _issuer(ids)["providers"][audience] = {"pool": pool}
    return audience


def issue_subject_token(bed, ids, audience, subject, lifetime=3600):
    """An OIDC ID token from the bed's issuer, as a CI system or another cloud would hand out."""
    iss = _issuer(ids)
    if audience not in iss["providers"]:
        raise ValueError(f"unknown workload identity provider {audience!r}; register it first")
    signer = crypt.RSASigner.from_string(iss["private_key"], iss["key_id"])
    now = int(bed.now())
    claims = {"iss": f"{bed.base_url}/oidc", "sub": subject, "aud": audience, "iat": now, "exp": now + lifetime}
    return jwt.encode(signer, claims).decode()


def federated_principal(ids, audience, subject):
    pool_path = audience.split("//iam.googleapis.com/", 1)[1].rsplit("/providers/", 1)[0]
    return f"principal://iam.googleapis.com/{pool_path}/subject/{subject}"


def sts_exchange(bed, ids, body):
    if body.get("grantType") != TOKEN_EXCHANGE:
        raise OAuthError(400, "unsupported_grant_type", f"Invalid value for grant_type: {body.get('grantType')!r}")
    if body.get("requestedTokenType") != ACCESS_TOKEN_TYPE:
        raise OAuthError(400, "invalid_request", "Invalid value for requested_token_type.")
    if body.get("subjectTokenType") not in SUBJECT_TYPES:
        raise OAuthError(400, "invalid_request", f"Invalid value for subject_token_type: "
                                                 f"{body.get('subjectTokenType')!r}")
    audience = body.get("audience")
    iss = ids.subject_issuer
    if iss is None or audience not in iss["providers"]:
        raise OAuthError(400, "invalid_target", "The target service indicated by the \"audience\" parameters "
                                                "is invalid. This might either be because the pool or provider "
                                                "is disabled or deleted or because it doesn't exist.")
    try:
        claims = jwt.decode(body.get("subjectToken") or "", certs={iss["key_id"]: iss["cert"]}, audience=audience,
                            clock_skew_in_seconds=300)
    except (ValueError, google.auth.exceptions.GoogleAuthError) as e:
        text = str(e).lower()
        what = ("The access token has expired." if "expired" in text or "too early" in text
                else "Invalid value for \"audience\"." if "audience" in text
                else "The ID Token signature is invalid." if "signature" in text or "key id" in text
                else f"Unable to parse the ID Token.")
        raise OAuthError(400, "invalid_grant", what)
    scopes = (body.get("scope") or "https://www.googleapis.com/auth/cloud-platform").split()
    principal = federated_principal(ids, audience, claims["sub"])
    token, lifetime = ids.issue(principal, scopes, "sts")
    return {"access_token": token, "issued_token_type": ACCESS_TOKEN_TYPE, "token_type": "Bearer",
            "expires_in": lifetime}
