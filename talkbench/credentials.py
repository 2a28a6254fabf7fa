"""C2PA content credentials: every synthetic file the suite writes carries a signed manifest
that says, in the ecosystem's own terms, that it is machine-generated and what made it.

The manifest holds a ``c2pa.actions`` assertion (``c2pa.created``, IPTC digitalSourceType
``trainedAlgorithmicMedia``, talkbench as software agent, the generator, mode, T, config
fingerprint and, for adversarial fakes, the target detector as parameters) and an
``org.talkbench.provenance`` assertion with every provenance field. It is signed ES256.

Identity: by default a self-signed one the suite creates on first use, a small CA plus a
signing certificate (digitalSignature key usage, emailProtection EKU, as C2PA requires), in
``$TALKBENCH_C2PA_DIR`` or ``~/.config/talkbench/c2pa``. Nobody trusts it by default: readers
report such files as "Valid" (intact, signed) but not "Trusted". A lab plugs in its own
certificate with ``TALKBENCH_C2PA_CERT`` (PEM chain, signer first) and ``TALKBENCH_C2PA_KEY``
(PEM private key), and names the anchors its readers trust with ``TALKBENCH_C2PA_TRUST``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkbench import __version__
from talkbench.errors import TalkbenchError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION = "org.talkbench.provenance"
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
        ".tif": "image/tiff", ".tiff": "image/tiff", ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}
# provenance fields that also go into the c2pa.created action's parameters
ACTION_FIELDS = ("generator", "mode", "setting", "T", "shots", "kind", "config_fingerprint", "adversarial",
                 "target_detector", "watermark")


def identity_dir() -> Path:
    env = os.environ.get("TALKBENCH_C2PA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "talkbench" / "c2pa"


def identity_files() -> tuple[Path, Path, bool]:
    """(certificate chain PEM, private key PEM, self_signed): the lab's when the environment
    names them, else the per-user self-signed identity, created on first use."""
    cert, key = os.environ.get("TALKBENCH_C2PA_CERT"), os.environ.get("TALKBENCH_C2PA_KEY")
    if cert or key:
        if not (cert and key):
            raise TalkbenchError("set both TALKBENCH_C2PA_CERT and TALKBENCH_C2PA_KEY (PEM files), or neither")
        for p in (cert, key):
            if not Path(p).is_file():
                raise TalkbenchError(f"C2PA signing file {p} does not exist")
        return Path(cert), Path(key), False
    folder = identity_dir()
    if not (folder / "signer.pem").is_file():
        _create_identity(folder)
    return folder / "signer.pem", folder / "signer.key", True


def _create_identity(folder: Path) -> None:
    """A CA and an ES256 signing certificate, written to a temporary folder and renamed into
    place, so concurrent first uses never leave a key that does not match its certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talkbench (self-signed, untrusted)")])

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=not sign,
                             crl_sign=not sign, encipher_only=False, decipher_only=False)

    now = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=5)
    until = now + _dt.timedelta(days=3650)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    user = os.environ.get("USER") or "user"
    ca = (x509.CertificateBuilder().subject_name(name(f"talkbench local CA ({user})"))
          .issuer_name(name(f"talkbench local CA ({user})")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(name(f"talkbench signer ({user})")).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(until)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(usage(True), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".c2pa-", dir=folder.parent))
    try:
        (tmp / "ca.pem").write_bytes(ca.public_bytes(pem))
        (tmp / "signer.pem").write_bytes(signer.public_bytes(pem) + ca.public_bytes(pem))
        key_file = tmp / "signer.key"
        key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        key_file.chmod(0o600)
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "signer.pem").is_file():  # not a concurrent first use: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _signer(cert: Path, key: Path, _mtime: float):
    import c2pa

    try:
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", cert.read_bytes(), key.read_bytes(), None))
    except c2pa.C2paError as exc:
        raise TalkbenchError(f"cannot sign with {cert} / {key}: {exc}") from None


@functools.lru_cache(maxsize=4)
def _context(trust: str | None):
    """Thumbnails off (a second copy of every fake, larger than a 64 px frame itself);
    trust anchors only where the environment names them."""
    import c2pa

    settings: dict[str, Any] = {"builder": {"thumbnail": {"enabled": False}}}
    if trust:
        settings["trust"] = {"trust_anchors": Path(trust).read_text()}
    return c2pa.Context.from_dict(settings)


def _trust() -> str | None:
    trust = os.environ.get("TALKBENCH_C2PA_TRUST")
    if trust and not Path(trust).is_file():
        raise TalkbenchError(f"TALKBENCH_C2PA_TRUST={trust} is not a file")
    return trust or None


def manifest(meta: dict[str, str], title: str) -> dict[str, Any]:
    """The manifest definition for one synthetic file (``meta`` = talkbench.provenance fields)."""
    params = {k: meta[k] for k in ACTION_FIELDS if k in meta}
    return {
        "claim_generator_info": [{"name": "talkbench", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": {"name": "talkbench", "version": __version__}, "parameters": params}]}},
            {"label": ASSERTION, "data": dict(meta)},
        ],
    }


def sign(data: bytes, suffix: str, meta: dict[str, str], title: str) -> bytes:
    """``data`` (a whole PNG/JPEG/mp4 file) with a signed manifest embedded."""
    import c2pa

    mime = MIME.get(suffix.lower())
    if mime is None:
        raise TalkbenchError(f"cannot sign {suffix} files with C2PA (supported: {', '.join(sorted(MIME))})")
    cert, key, _ = identity_files()
    signer = _signer(cert, key, cert.stat().st_mtime)
    out = io.BytesIO()
    try:
        with c2pa.Builder(manifest(meta, title), context=_context(_trust())) as builder:
            builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise TalkbenchError(f"C2PA signing of {title} failed: {exc}") from None
    return out.getvalue()


@dataclass
class Credentials:
    """What a file's C2PA manifest says. ``state``: "absent", "Invalid" (tampered, corrupt or
    badly signed), "Valid" (intact and signed; identity not trusted here) or "Trusted"."""

    state: str
    failures: list[str] = field(default_factory=list)  # validation failure codes
    meta: dict[str, str] = field(default_factory=dict)  # the org.talkbench.provenance assertion
    digital_source_type: str = ""
    signer: str = ""

    @property
    def valid(self) -> bool:
        return self.state in ("Valid", "Trusted")


def read(path: str | Path) -> Credentials:
    """Read and validate ``path``'s manifest; a file without one reads as ``absent``."""
    import c2pa

    path = Path(path)
    mime = MIME.get(path.suffix.lower())
    if mime is None:
        return Credentials("absent")
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(path.read_bytes()), context=_context(_trust()))
    except c2pa.C2paError as exc:  # a manifest is there but cannot be parsed: never valid
        return Credentials("Invalid", [f"unreadable manifest: {exc}"])
    if reader is None:
        return Credentials("absent")
    with reader:
        state = reader.get_validation_state() or "Invalid"
        results = (reader.get_validation_results() or {}).get("activeManifest", {})
        active = reader.get_active_manifest() or {}
    failures = [f["code"] for f in results.get("failure", [])]
    meta, source = {}, ""
    for a in active.get("assertions", []):
        if a.get("label") == ASSERTION:
            meta = {str(k): str(v) for k, v in a.get("data", {}).items()}
        elif a.get("label", "").startswith("c2pa.actions"):
            source = next((x.get("digitalSourceType", "") for x in a.get("data", {}).get("actions", [])
                           if x.get("action") == "c2pa.created"), source)
    return Credentials(state, failures, meta, source, active.get("signature_info", {}).get("common_name", ""))
