#!/usr/bin/env python3
"""What google-auth (the reference client) says about drctl's service-account credentials.

  keyfile DIR [--token-uri URI]   write DIR/key.json (a real service-account key, PKCS#8) and
                                  DIR/cert.pem (a self-signed certificate of its public key)
  verify KEYFILE CERT ASSERTION   google.auth.jwt.decode the assertion with the certificate, by kid;
                                  prints the verified header and claims as JSON (exit 1: refused)
  request KEYFILE SCOPE           the token request google-auth's service_account.Credentials
                                  sends (captured by a fake transport, no network), as JSON
"""
import base64
import datetime
import json
import sys
import urllib.parse


def keyfile(directory, token_uri):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    email = "drctl-test@drctl-test-project.iam.gserviceaccount.com"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, email)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    info = {
        "type": "service_account", "project_id": "drctl-test-project",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567", "private_key": pem,
        "client_email": email, "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com",
    }
    with open(directory + "/key.json", "w") as f:
        json.dump(info, f, indent=2)
    with open(directory + "/cert.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def segment(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def verify(keyfile_path, cert_path, assertion):
    from google.auth import jwt
    info = json.load(open(keyfile_path))
    cert = open(cert_path).read()
    try:
        claims = jwt.decode(assertion, certs={info["private_key_id"]: cert}, audience=info["token_uri"])
    except Exception as error:  # google-auth raises ValueError / MalformedError on a bad signature
        print(json.dumps({"error": type(error).__name__ + ": " + str(error)}))
        sys.exit(1)
    print(json.dumps({"header": segment(assertion.split(".")[0]), "claims": claims}))


class CapturingRequest:
    """google.auth.transport.Request that records the token request and answers like Google."""
    def __init__(self):
        self.seen = None

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        self.seen = {"url": url, "method": method, "headers": dict(headers or {}),
                     "body": body.decode() if isinstance(body, bytes) else body}

        class Response:
            status = 200
            headers = {"content-type": "application/json"}
            data = json.dumps({"access_token": "ya29.captured", "expires_in": 3599, "token_type": "Bearer"}).encode()
        return Response()


def request(keyfile_path, scope):
    from google.oauth2 import service_account
    credentials = service_account.Credentials.from_service_account_file(keyfile_path, scopes=[scope])
    capture = CapturingRequest()
    credentials.refresh(capture)
    seen = capture.seen
    form = urllib.parse.parse_qsl(seen["body"], keep_blank_values=True)
    assertion = dict(form)["assertion"]
    seen["form_names"] = [name for name, _ in form]
    seen["grant_type"] = dict(form)["grant_type"]
    seen["assertion_header"] = segment(assertion.split(".")[0])
    seen["assertion_claims"] = segment(assertion.split(".")[1])
    seen["assertion_header_json"] = base64.urlsafe_b64decode(assertion.split(".")[0] + "==").decode()
    seen["assertion_claims_json"] = base64.urlsafe_b64decode(assertion.split(".")[1] + "==").decode()
    print(json.dumps(seen))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "keyfile":
        uri = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--token-uri" else "https://oauth2.googleapis.com/token"
        keyfile(sys.argv[2], uri)
    elif command == "verify":
        verify(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "request":
        request(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + command)
