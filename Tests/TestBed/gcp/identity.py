"""Who exists in the bed and what they may do: service accounts with real RSA keys, users with
refresh tokens (gcloud ADC), roles per project, impersonation grants, and the access tokens the
bed issued (principal, scopes, expiry).

Key files are what `gcloud iam service-accounts keys create` writes
(https://cloud.google.com/iam/docs/keys-create-delete#creating), with token_uri pointing at the bed.
"""
import copy
import datetime
import json
import os
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .core import GoogleError

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_SCOPE = "https://www.googleapis.com/auth/iam"
# Roles that only read: a principal holding nothing else may call GET methods only.
READ_ONLY_ROLES = {"roles/viewer", "roles/cloudsql.viewer", "roles/monitoring.viewer", "roles/dns.reader",
                   "roles/container.viewer", "roles/storagetransfer.viewer", "roles/storage.objectViewer"}
BASELINE_FIELDS = ("projects", "roles", "service_accounts", "clients", "refresh_tokens", "impersonation",
                   "subject_issuer")


def new_key_pair(email):
    """(private key PKCS#8 PEM, self-signed certificate PEM) as Google's x509 endpoint publishes it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, email)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class Identities:
    def __init__(self, bed, project, project_number):
        self.bed, self.default_project, self.default_number = bed, project, project_number
        self.baseline = None
        self.clear()

    def reset(self):
        """Back to the identities registered at start (their key files stay valid); tokens are dropped."""
        if self.baseline is None:
            return self.clear()
        for k, v in copy.deepcopy(self.baseline).items():
            setattr(self, k, v)
        self.tokens = {}

    def keep_as_baseline(self):
        self.baseline = copy.deepcopy({k: getattr(self, k) for k in BASELINE_FIELDS})

    def clear(self):
        self.projects = {self.default_project: {"number": self.default_number}}
        self.roles = {self.default_project: {}}   # project -> principal -> set(role)
        self.service_accounts = {}                # email -> {"keys": {kid: cert_pem}, "project", "unique_id"}
        self.clients = {}                         # OAuth client_id -> client_secret
        self.refresh_tokens = {}                  # refresh token -> {"client_id", "principal", "scopes"}
        self.impersonation = {}                   # target email -> set(principals allowed)
        self.tokens = {}                          # access token -> {"principal", "scopes", "expires", "source"}
        self.subject_issuer = None                # set by sts: the key of the bed's own OIDC issuer

    # ---- registration -----------------------------------------------------
    def add_project(self, project, number=None):
        self.projects.setdefault(project, {"number": number or str(100000000000 + len(self.projects))})
        self.roles.setdefault(project, {})

    def grant(self, principal, roles, project=None):
        project = project or self.default_project
        self.add_project(project)
        self.roles[project].setdefault(principal, set()).update(roles)

    def add_service_account(self, name, project=None, roles=("roles/editor",)):
        """Registers `name`@project.iam.gserviceaccount.com with a new key; returns the key file dict."""
        project = project or self.default_project
        email = name if "@" in name else f"{name}@{project}.iam.gserviceaccount.com"
        pem, cert = new_key_pair(email)
        kid = secrets.token_hex(20)
        sa = self.service_accounts.setdefault(email, {"keys": {}, "project": project,
                                                      "unique_id": str(10 ** 20 + secrets.randbelow(10 ** 20))})
        sa["keys"][kid] = cert
        if roles:
            self.grant(email, roles, project)
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": kid,
            "private_key": pem,
            "client_email": email,
            "client_id": sa["unique_id"],
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.bed.base_url}/oauth2/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"{self.bed.base_url}/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }

    def add_user(self, email, project=None, roles=("roles/owner",), quota_project=None):
        """A gcloud `application-default login` file (type authorized_user) for `email`."""
        client_id = f"{secrets.randbelow(10 ** 12):012d}-{secrets.token_hex(16)}.apps.googleusercontent.com"
        secret = "GOCSPX-" + secrets.token_urlsafe(21)
        refresh = "1//" + secrets.token_urlsafe(60)
        self.clients[client_id] = secret
        self.refresh_tokens[refresh] = {"client_id": client_id, "principal": email,
                                        "scopes": [CLOUD_PLATFORM, "openid",
                                                   "https://www.googleapis.com/auth/userinfo.email",
                                                   "https://www.googleapis.com/auth/sqlservice.login"]}
        if roles:
            self.grant(email, roles, project)
        info = {"type": "authorized_user", "client_id": client_id, "client_secret": secret,
                # As gcloud writes it: no token_uri (google-auth ignores one and always uses
                # https://oauth2.googleapis.com/token), so a client reaches the bed's /oauth2/token only
                # through its own endpoint override.
                "refresh_token": refresh, "universe_domain": "googleapis.com"}
        if quota_project:
            info["quota_project_id"] = quota_project
        return info

    def allow_impersonation(self, caller, target):
        self.impersonation.setdefault(target, set()).add(caller)

    # ---- tokens -----------------------------------------------------------
    def issue(self, principal, scopes, source, lifetime=None):
        token = "ya29." + secrets.token_urlsafe(96)
        lifetime = self.bed.config["token_lifetime"] if lifetime is None else lifetime
        self.tokens[token] = {"principal": principal, "scopes": list(scopes), "source": source,
                              "expires": self.bed.now() + lifetime}
        return token, lifetime

    def expire_all(self):
        for t in self.tokens.values():
            t["expires"] = min(t["expires"], self.bed.now() - 1)

    def caller(self, headers):
        """The token record behind `Authorization: Bearer ...`, or a 401 as Google answers it."""
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise GoogleError(401, "Request is missing required authentication credential. Expected OAuth 2 "
                                   "access token, login cookie or other valid authentication credential. See "
                                   "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                              reason="required")
        rec = self.tokens.get(auth[len("Bearer "):].strip())
        if rec is None or rec["expires"] <= self.bed.now():
            raise GoogleError(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                   "token, login cookie or other valid authentication credential. See "
                                   "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                              reason="authError")
        return rec

    def check_scopes(self, rec, method_scopes, method_id=""):
        # IAM Credentials also takes the `iam` scope (google-auth's impersonated credentials ask for
        # exactly that one), which its discovery document does not list.
        extra = {IAM_SCOPE} if method_id.startswith("iamcredentials.") else set()
        if method_scopes and not set(rec["scopes"]) & (set(method_scopes) | extra):
            raise GoogleError(403, "Request had insufficient authentication scopes.",
                              reason="insufficientPermissions",
                              details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"}])

    def check_project(self, rec, project, read_only):
        if project not in self.projects:
            raise GoogleError(403, f"The client is not authorized to make this request: project {project!r} "
                                   "does not exist or you do not have permission to access it.",
                              reason="notAuthorized")
        roles = self.roles.get(project, {}).get(rec["principal"], set())
        if not roles or (not read_only and roles <= READ_ONLY_ROLES):
            raise GoogleError(403, f"The caller does not have permission: {rec['principal']} has no role "
                                   f"that allows this call on project {project}.", reason="forbidden")

    def check_quota_project(self, headers):
        qp = headers.get("x-goog-user-project")
        if qp is not None and qp not in self.projects:
            raise GoogleError(403, f"Project '{qp}' not found or permission denied (x-goog-user-project).",
                              reason="forbidden")

    def write_files(self, state_dir):
        """The default identities as files in the state dir; returns {name: path}."""
        paths = {}
        for name, info in (("gcp-sa.json", self.add_service_account("drctl-dr")),
                           ("gcp-adc.json", self.add_user("dr-operator@example.com",
                                                          quota_project=self.default_project))):
            path = os.path.join(state_dir, name)
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(info, f, indent=2)
            os.replace(path + ".tmp", path)
            paths[name] = path
        return paths
