"""openpgp_verify with real gpg keys and gpgv: the pinned key's signature
passes; another key, a tampered file, a missing key or a bad signature fail."""

import shutil
import subprocess

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import openpgp
from ansible_collections.redisops.ec2_cluster.plugins.modules import openpgp_verify as mod


class FakeModule:
    def get_bin_path(self, name, required=False):
        return shutil.which(name)

    def run_command(self, args, environ_update=None):
        result = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout, result.stderr


def gpg(home, *args, data=None):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                           "--passphrase", "", *args], input=data, capture_output=True, check=True, timeout=60)


def make_key(base, name):
    home = base / name
    home.mkdir(mode=0o700)
    gpg(home, "--quick-gen-key", "%s <%s@example.invalid>" % (name, name), "ed25519", "sign", "never")
    listing = gpg(home, "--with-colons", "--list-keys").stdout.decode()
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    armored = base / ("%s.asc" % name)
    armored.write_bytes(gpg(home, "--armor", "--export", fingerprint).stdout)
    return home, fingerprint, armored


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("gpg")
    signer, signer_fpr, signer_key = make_key(base, "signer")
    other, other_fpr, other_key = make_key(base, "other")
    package = base / "package.deb"
    package.write_bytes(b"a package\n" * 1000)
    signature = base / "package.deb.sig"
    gpg(signer, "--output", str(signature), "--detach-sign", str(package))
    yield {"package": package, "signature": signature, "key": signer_key, "fingerprint": signer_fpr,
           "other_key": other_key, "other_fingerprint": other_fpr, "base": base}
    for home in (signer, other):  # gpg started an agent per home: stop exactly those
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=30)


def spaced(fingerprint):
    return " ".join(fingerprint[i:i + 4] for i in range(0, 40, 4))


def test_the_pinned_keys_signature_passes(keys):
    signers = mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(keys["key"]),
                         spaced(keys["fingerprint"]))
    assert keys["fingerprint"] in signers


def test_a_binary_key_file_works_too(keys, tmp_path):
    binary = tmp_path / "key.gpg"
    binary.write_bytes(openpgp.dearmor(keys["key"].read_bytes()))
    assert mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(binary), keys["fingerprint"])


def test_a_key_with_another_fingerprint_fails(keys):
    with pytest.raises(openpgp.OpenPGPError, match="does not verify"):
        mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(keys["other_key"]),
                   keys["fingerprint"])


def test_the_right_signature_with_the_wrong_pin_fails(keys):
    with pytest.raises(openpgp.OpenPGPError, match="not by the pinned key"):
        mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(keys["key"]),
                   keys["other_fingerprint"])


def test_a_tampered_package_fails(keys, tmp_path):
    tampered = tmp_path / "package.deb"
    tampered.write_bytes(keys["package"].read_bytes() + b"!")
    with pytest.raises(openpgp.OpenPGPError, match="BADSIG"):
        mod.verify(FakeModule(), str(tampered), str(keys["signature"]), str(keys["key"]), keys["fingerprint"])


def test_a_missing_key_or_signature_fails(keys, tmp_path):
    with pytest.raises(openpgp.OpenPGPError, match="key .* does not exist"):
        mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(tmp_path / "none.gpg"),
                   keys["fingerprint"])
    with pytest.raises(openpgp.OpenPGPError, match="signature .* does not exist"):
        mod.verify(FakeModule(), str(keys["package"]), str(tmp_path / "none.sig"), str(keys["key"]),
                   keys["fingerprint"])


def test_garbage_as_key_or_signature_fails(keys, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a key at all")
    with pytest.raises(openpgp.OpenPGPError):
        mod.verify(FakeModule(), str(keys["package"]), str(junk), str(keys["key"]), keys["fingerprint"])
    with pytest.raises(openpgp.OpenPGPError):
        mod.verify(FakeModule(), str(keys["package"]), str(keys["signature"]), str(junk), keys["fingerprint"])


@pytest.mark.parametrize("text,expected", [
    ("9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72", "937616F3450B7D806CBD9725D58167303B789C72"),
    ("0x937616f3450b7d806cbd9725d58167303b789c72", "937616F3450B7D806CBD9725D58167303B789C72"),
])
def test_fingerprints_are_normalised(text, expected):
    assert openpgp.normalise_fingerprint(text) == expected


@pytest.mark.parametrize("text", ["3B789C72", "", "Z" * 40])
def test_short_or_bad_fingerprints_are_refused(text):
    with pytest.raises(openpgp.OpenPGPError, match="fingerprint"):
        openpgp.normalise_fingerprint(text)


def test_status_parsing():
    status = ("[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG D58167303B789C72 Amazon CloudWatch Agent\n"
              "[GNUPG:] VALIDSIG AAAA16F3450B7D806CBD9725D58167303B789C72 2017-11-29 1511996459 0 4 0 1 2 00 "
              "937616F3450B7D806CBD9725D58167303B789C72\n")
    assert openpgp.valid_signers(status) == ["AAAA16F3450B7D806CBD9725D58167303B789C72",
                                             "937616F3450B7D806CBD9725D58167303B789C72"]
    openpgp.check_signature(status, 0, "9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72")
    with pytest.raises(openpgp.OpenPGPError, match="does not verify"):
        openpgp.check_signature(status, 1, "937616F3450B7D806CBD9725D58167303B789C72")
    with pytest.raises(openpgp.OpenPGPError, match="no status"):
        openpgp.check_signature("", 2, "937616F3450B7D806CBD9725D58167303B789C72")
