"""cluster_facts as it runs on AWS: no endpoint or keys in the inventory,
credentials and endpoint from the environment (botocore reads
AWS_ENDPOINT_URL), against a private moto. It used to fail before any API
call: the SSM lookup was handed Ansible's omit placeholder as a key."""

import json
import os
import subprocess
from pathlib import Path

from moto_server import SAFE_ENV, client, moto_server

ROOT = Path(__file__).resolve().parents[2]
PORT = 5192

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: cluster_facts
      vars:
        cluster_facts_terraform_state: {state}
        cluster_facts_hosts: []
        cluster_facts_acl_users: [{{name: admin, role: admin}}, {{name: replication, role: replication}}]
        cluster_facts_aws_region: us-west-2
        cluster_facts_aws_endpoint_url: ""
        cluster_facts_aws_access_key: ""
        cluster_facts_aws_secret_key: ""
  tasks:
    - name: Show what was read
      ansible.builtin.debug:
        msg: "cluster={{{{ cluster_facts_outputs.cluster_name }}}} users={{{{ cluster_facts_acl_users | map(attribute='name') | join(',') }}}}"
"""


def test_cluster_facts_with_credentials_from_the_environment(tmp_path):
    with moto_server(PORT, tmp_path) as endpoint:
        ssm = client("ssm", endpoint)
        for user in ("admin", "replication"):
            ssm.put_parameter(Name="/redisops/prod/acl/%s" % user, Value=user * 8, Type="SecureString")
        state = tmp_path / "terraform.tfstate"
        state.write_text(json.dumps({"version": 4, "outputs": {"cluster_name": {"value": "prod", "type": "string"}}}))
        playbook = tmp_path / "facts.yml"
        playbook.write_text(PLAYBOOK.format(state=state))
        env = dict(os.environ, **SAFE_ENV, AWS_ENDPOINT_URL=endpoint, ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1")
        env.pop("ANSIBLE_CONFIG", None)
        proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "cluster=prod users=admin,replication" in proc.stdout
    for user in ("admin", "replication"):
        assert user * 8 not in proc.stdout + proc.stderr
