"""gcpbed's identity side over real HTTP: the token endpoint (JWTs made by google-auth, and
hand-made bad ones), the refresh-token grant, the metadata server, impersonation, workload identity
federation, and the bearer / scope / role / quota-project checks on every API call."""
import json
import os
import time
import unittest

import google.auth.transport.requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, identity_pool, impersonated_credentials, jwt
from google.auth.exceptions import RefreshError
from google.oauth2 import credentials as user_credentials

from harness import CLOUD, BedTestCase

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class TokenEndpoint(BedTestCase):
    def assertion(self, iat_offset=0, lifetime=3600, key=None, kid=None, **claims):
        signer = crypt.RSASigner.from_string(key or self.key["private_key"], kid or self.key["private_key_id"])
        now = int(time.time()) + iat_offset
        payload = {"iss": self.key["client_email"], "aud": self.key["token_uri"], "scope": CLOUD,
                   "iat": now, "exp": now + lifetime}
        payload.update(claims)
        return jwt.encode(signer, payload).decode()

    def grant(self, assertion):
        return self.raw("POST", "/oauth2/token", form={"grant_type": JWT_BEARER, "assertion": assertion})

    def test_key_file_token_from_google_auth_works_on_an_api_call(self):
        sql = self.client("sqladmin", "v1")
        self.admin("sqladmin/instances", {"name": "pg"})
        self.assertEqual(sql.instances().get(project=self.project, instance="pg").execute()["name"], "pg")
        tokens = self.admin("tokens", method="GET")
        self.assertEqual([(t["principal"], t["source"]) for t in tokens], [(self.key["client_email"], "jwt-bearer")])

    def test_assertion_with_token_uri_as_audience_is_accepted(self):
        status, _, body = self.grant(self.assertion())
        self.assertEqual(status, 200, body)
        self.assertTrue(body["access_token"].startswith("ya29."))
        self.assertEqual((body["expires_in"], body["token_type"]), (3599, "Bearer"))

    def test_assertion_signed_with_another_key_is_invalid_grant(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        with self.assertRaises(RefreshError) as ctx:
            self.token(info=dict(self.key, private_key=other))
        self.assertIn("invalid_grant", str(ctx.exception))
        self.assertIn("Invalid JWT Signature", str(ctx.exception))

    def test_unknown_key_id_expired_or_long_lived_assertions_are_refused(self):
        cases = {"unknown kid": self.assertion(kid="0" * 40),
                 "expired": self.assertion(iat_offset=-7200),
                 "issued in the future": self.assertion(iat_offset=1200),
                 "longer than an hour": self.assertion(lifetime=7200),
                 "wrong audience": self.assertion(aud="https://example.com/token"),
                 "unknown account": self.assertion(iss="nobody@drctl-dr.iam.gserviceaccount.com")}
        for what, assertion in cases.items():
            with self.subTest(what):
                status, _, body = self.grant(assertion)
                self.assertEqual((status, body["error"]), (400, "invalid_grant"), body)

    def test_assertion_without_scope_is_invalid_scope(self):
        status, _, body = self.grant(self.assertion(scope=""))
        self.assertEqual((status, body["error"]), (400, "invalid_scope"))

    def test_token_request_must_be_a_form_with_a_known_grant_type(self):
        status, _, body = self.raw("POST", "/oauth2/token", body={"grant_type": JWT_BEARER})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, _, body = self.raw("POST", "/oauth2/token", form={"grant_type": "password"})
        self.assertEqual((status, body["error"]), (400, "unsupported_grant_type"))

    def test_authorized_user_file_refreshes_and_a_wrong_secret_is_invalid_client(self):
        with open(os.path.join(self.state, "gcp-adc.json")) as f:
            info = json.load(f)
        self.assertEqual(info["type"], "authorized_user")
        creds = user_credentials.Credentials(None, refresh_token=info["refresh_token"], client_id=info["client_id"],
                                             client_secret=info["client_secret"], token_uri=f"{self.url}/oauth2/token")
        creds.refresh(google.auth.transport.requests.Request())
        self.assertEqual(self.client("sqladmin", "v1", creds).instances().list(project=self.project).execute(),
                         {"kind": "sql#instancesList"})
        status, _, body = self.raw("POST", "/oauth2/token", form={
            "grant_type": "refresh_token", "client_id": info["client_id"], "client_secret": "wrong",
            "refresh_token": info["refresh_token"]})
        self.assertEqual((status, body["error"]), (401, "invalid_client"))


class MetadataServer(BedTestCase):
    def test_requires_the_flavor_header_and_answers_with_it(self):
        status, headers, _ = self.raw("GET", "/computeMetadata/v1/project/project-id")
        self.assertEqual(status, 403)
        status, headers, body = self.raw("GET", "/computeMetadata/v1/project/project-id",
                                         headers={"Metadata-Flavor": "Google"})
        self.assertEqual((status, headers["Metadata-Flavor"], body), (200, "Google", self.project))

    def test_token_honours_scopes_and_works_for_the_default_account(self):
        email = self.raw("GET", "/computeMetadata/v1/instance/service-accounts/default/email",
                         headers={"Metadata-Flavor": "Google"})[2]
        _, _, body = self.raw("GET", "/computeMetadata/v1/instance/service-accounts/default/token?scopes="
                              "https://www.googleapis.com/auth/devstorage.read_only",
                              headers={"Metadata-Flavor": "Google"})
        self.assertEqual(self.admin("tokens", method="GET")[0]["scopes"],
                         ["https://www.googleapis.com/auth/devstorage.read_only"])
        status, _, err = self.raw("GET", f"/sqladmin/v1/projects/{self.project}/instances",
                                  headers={"Authorization": f"Bearer {body['access_token']}"})
        self.assertEqual((status, err["error"]["status"]), (403, "PERMISSION_DENIED"))  # scope too narrow
        _, _, body = self.raw("GET", "/computeMetadata/v1/instance/service-accounts/default/token",
                              headers={"Metadata-Flavor": "Google"})
        status, _, _ = self.raw("GET", f"/sqladmin/v1/projects/{self.project}/instances",
                                headers={"Authorization": f"Bearer {body['access_token']}"})
        self.assertEqual((status, email), (200, f"drctl-gce@{self.project}.iam.gserviceaccount.com"))

    def test_google_auth_compute_engine_credentials_work_against_it(self):
        from google.auth import compute_engine
        from google.auth.compute_engine import _metadata
        host = self.url.split("//")[1]
        old = _metadata._GCE_METADATA_HOST
        _metadata._GCE_METADATA_HOST = host  # what GCE_METADATA_HOST sets at import
        try:
            creds = compute_engine.Credentials()
            creds.refresh(google.auth.transport.requests.Request())
        finally:
            _metadata._GCE_METADATA_HOST = old
        self.assertTrue(creds.token.startswith("ya29."))


class BearerChecks(BedTestCase):
    path = "/sqladmin/v1/projects/drctl-dr/instances"

    def test_missing_unknown_and_expired_tokens_are_401_in_googles_shape(self):
        token = self.token()
        for what, headers in {"missing": {}, "unknown": {"Authorization": "Bearer ya29.nope"}}.items():
            with self.subTest(what):
                status, _, body = self.raw("GET", self.path, headers=headers)
                self.assertEqual((status, body["error"]["code"], body["error"]["status"]), (401, 401, "UNAUTHENTICATED"))
        self.assertEqual(self.raw("GET", self.path, headers={"Authorization": f"Bearer {token}"})[0], 200)
        self.admin("tokens/expire")
        status, _, body = self.raw("GET", self.path, headers={"Authorization": f"Bearer {token}"})
        self.assertEqual((status, body["error"]["status"]), (401, "UNAUTHENTICATED"))

    def test_principal_without_a_role_and_viewer_writing_are_permission_denied(self):
        nobody = self.admin("service-accounts", {"name": "no-role", "roles": []})
        status, _, body = self.raw("GET", self.path, headers={"Authorization": f"Bearer {self.token(info=nobody)}"})
        self.assertEqual((status, body["error"]["status"]), (403, "PERMISSION_DENIED"))
        viewer = self.admin("service-accounts", {"name": "viewer", "roles": ["roles/viewer"]})
        self.admin("sqladmin/instances", {"name": "pg"})
        auth = {"Authorization": f"Bearer {self.token(info=viewer)}"}
        self.assertEqual(self.raw("GET", self.path + "/pg", headers=auth)[0], 200)
        status, _, body = self.raw("POST", self.path + "/pg/restart", headers=auth)
        self.assertEqual((status, body["error"]["status"]), (403, "PERMISSION_DENIED"))

    def test_unknown_quota_project_is_refused(self):
        auth = {"Authorization": f"Bearer {self.token()}"}
        self.assertEqual(self.raw("GET", self.path, headers=dict(auth, **{"x-goog-user-project": self.project}))[0], 200)
        status, _, _ = self.raw("GET", self.path, headers=dict(auth, **{"x-goog-user-project": "elsewhere"}))
        self.assertEqual(status, 403)

    def test_impersonation_needs_a_grant(self):
        target = f"drctl-gce@{self.project}.iam.gserviceaccount.com"
        source = self.credentials()
        creds = impersonated_credentials.Credentials(source_credentials=source, target_principal=target,
                                                     target_scopes=[CLOUD])
        creds._iam_endpoint_override = (f"{self.url}/iamcredentials/v1/projects/-/serviceAccounts/"
                                        f"{target}:generateAccessToken")
        with self.assertRaises(RefreshError) as ctx:
            creds.refresh(google.auth.transport.requests.Request())
        self.assertIn("iam.serviceAccounts.getAccessToken", str(ctx.exception))
        self.admin("impersonation", {"caller": self.key["client_email"], "target": target})
        creds.refresh(google.auth.transport.requests.Request())
        self.client("sqladmin", "v1", creds).instances().list(project=self.project).execute()
        self.assertIn((target, "impersonation"), [(t["principal"], t["source"]) for t in self.admin("tokens", method="GET")])
        self.assertNoViolations()

    def test_external_account_file_and_url_sourced_subject_tokens_are_exchanged(self):
        for source in ("file", "url"):
            with self.subTest(source):
                spec = {"subject": f"ci-{source}", "impersonate": self.key["client_email"]}
                if source == "file":
                    spec["token_file"] = os.path.join(self.state, "subject.jwt")
                info = self.admin("workload-identity", spec)["external_account"]
                self.assertIn(source, info["credential_source"])
                creds = identity_pool.Credentials.from_info(info, scopes=[CLOUD])
                creds.refresh(google.auth.transport.requests.Request())
                self.client("sqladmin", "v1", creds).instances().list(project=self.project).execute()
        principals = [t["principal"] for t in self.admin("tokens", method="GET")]
        self.assertTrue(any(p.endswith("/subject/ci-file") for p in principals), principals)
        self.assertNoViolations()

    def test_the_beds_own_external_account_file_works_after_a_reset(self):
        creds = identity_pool.Credentials.from_file(os.path.join(self.state, "gcp-external.json"), scopes=[CLOUD])
        creds.refresh(google.auth.transport.requests.Request())
        self.client("sqladmin", "v1", creds).instances().list(project=self.project).execute()
        self.assertEqual(self.admin("tokens", method="GET")[-1]["principal"], self.key["client_email"])

    def test_sts_refuses_a_subject_token_for_another_audience(self):
        info = self.admin("workload-identity", {"subject": "ci"})
        status, _, body = self.raw("POST", "/sts/v1/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "subject_token": info["subject_token"],
            "audience": info["audience"].replace("drctl-oidc", "other"), "scope": CLOUD})
        self.assertEqual((status, body["error"]), (400, "invalid_target"))


if __name__ == "__main__":
    unittest.main()
