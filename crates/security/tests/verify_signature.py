"""Independent verifier for psd2-security's HTTP message signatures (used by tests/independent.rs).

Usage: verify_signature.py CERT_PEM HEADERS_FILE BODY_FILE
HEADERS_FILE holds one `name<TAB>value` line per header exactly as sent on the wire.
Prints `OK` and exits 0 when the Digest matches and the Signature verifies; exits 1 otherwise.
Written from draft-cavage-http-signatures-10 and Berlin Group's guidelines, sharing no code
with the Rust implementation.
"""
import base64
import hashlib
import re
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.asymmetric import padding


def rfc2047_decode(value):
    m = re.fullmatch(r"=\?([^?]+)\?([bB])\?([^?]*)\?=", value.strip())
    if not m:
        return value
    return base64.b64decode(m.group(3)).decode(m.group(1))


def main():
    cert_path, headers_path, body_path = sys.argv[1:4]
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    headers = {}
    for line in open(headers_path, encoding="ascii").read().splitlines():
        name, value = line.split("\t", 1)
        headers.setdefault(name.lower(), []).append(value.strip())
    body = open(body_path, "rb").read()

    expected_digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    if headers["digest"] != [expected_digest]:
        print("digest mismatch", headers["digest"], expected_digest)
        return 1

    sent_cert = base64.b64decode(headers["tpp-signature-certificate"][0])
    if sent_cert != cert.public_bytes(Encoding.DER):
        print("certificate mismatch")
        return 1

    sig_header = rfc2047_decode(headers["signature"][0])
    params = dict(re.findall(r'(\w+)="([^"]*)"', sig_header))
    serial = format(cert.serial_number, "X")
    if len(serial) % 2:
        serial = "0" + serial
    issuer = cert.issuer.rfc4514_string()
    if params["keyId"] != f"SN={serial},CA={issuer}":
        print("keyId mismatch", params["keyId"], f"SN={serial},CA={issuer}")
        return 1
    if params.get("algorithm") != "rsa-sha256":
        print("algorithm", params.get("algorithm"))
        return 1
    listed = params["headers"].split()
    for required in ["digest", "x-request-id", "date"]:
        if required not in listed:
            print("not signed:", required)
            return 1
    for optional in ["psu-id", "psu-corporate-id", "tpp-redirect-uri"]:
        if optional in headers and optional not in listed:
            print("not signed:", optional)
            return 1
    signing_string = "\n".join(f"{h}: {', '.join(headers[h])}" for h in listed)
    try:
        cert.public_key().verify(
            base64.b64decode(params["signature"]),
            signing_string.encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        print("signature invalid")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
