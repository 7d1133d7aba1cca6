"""Role node_access on the controller, with real ansible-playbook runs on
localhost only (nothing is reached over the network): the check that stops
a run before anything connects, and the forgetting of terminated instances'
host keys in the cluster's known_hosts file (ansible.builtin.known_hosts)."""

import json

import yaml

from redisops_testlib import ansible_env, run_playbook

OUTPUTS = {"cluster_name": "access-test", "bastion_public_ip": "198.51.100.30", "key_pair_name": "access-test-key"}

PLAY = """
- name: Reach the nodes, as the first play of site.yml checks it
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    redisops_node_access: >-
      {{{{ {settings} | redisops.ec2_cluster.node_access({outputs}) }}}}
  tasks:
    - name: Check
      ansible.builtin.include_role:
        name: node_access
    - name: Forget
      ansible.builtin.include_role:
        name: node_access
        tasks_from: forget
      vars:
        node_access_forget_hosts: {forget}
"""

# Two keys of instances, one of the bastion (fake key material, valid format).
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC8v3x2L9hG0xQ1j3s8jv7m0oXGd6v8cX0Jp7t2bKk9B"
KNOWN = "i-0aaa %s\ni-0bbb %s\n198.51.100.30 %s\n" % (KEY, KEY, KEY)


def play(tmp_path, outputs, forget=(), **settings):
    values = {"connection": "ssh", "bastion_host": "", "bastion_user": "admin", "user": "admin",
              "private_key_file": "", "key_pair_name": "", "known_hosts_dir": str(tmp_path / "ssh"), "ssm_bucket": ""}
    values.update(settings)
    playbook = tmp_path / "access.yml"
    playbook.write_text(PLAY.format(settings=json.dumps(values), outputs=json.dumps(outputs),
                                    forget=json.dumps(list(forget))))
    yaml.safe_load(playbook.read_text())
    return run_playbook(playbook, inventory="localhost,", env=ansible_env({"AWS_EC2_METADATA_DISABLED": "true"}),
                        timeout=300)


def test_missing_outputs_stop_the_run_naming_the_variables(tmp_path):
    result = play(tmp_path, {"cluster_name": "access-test"})
    assert result.rc != 0, result.explain()
    assert "The instances cannot be reached: no bastion host: set redisops_ssh_bastion_host or the Terraform output " \
           "bastion_public_ip; no key pair name: set redisops_ssh_key_pair_name" in result.output, result.explain()
    assert not (tmp_path / "ssh").exists()


def test_a_missing_private_key_stops_the_run(tmp_path):
    result = play(tmp_path, OUTPUTS)
    assert result.rc != 0, result.explain()
    assert "No private key of key pair access-test-key at %s" % (tmp_path / "ssh" / "access-test" / "access-test-key") \
        in result.output, result.explain()


def test_complete_settings_pass_and_terminated_instances_are_forgotten(tmp_path):
    cluster_dir = tmp_path / "ssh" / "access-test"
    cluster_dir.mkdir(parents=True)
    (cluster_dir / "access-test-key").write_text("stand-in\n")
    known_hosts = cluster_dir / "known_hosts"
    known_hosts.write_text(KNOWN)
    result = play(tmp_path, OUTPUTS, forget=["i-0aaa", "i-0gone"])
    assert result.rc == 0, result.explain()
    assert "Nodes over SSH as admin through admin@198.51.100.30" in result.output
    assert oct(cluster_dir.stat().st_mode & 0o777) == "0o700"
    # The terminated instance's key goes; the others stay.
    assert known_hosts.read_text() == "i-0bbb %s\n198.51.100.30 %s\n" % (KEY, KEY)
    again = play(tmp_path, OUTPUTS, forget=["i-0aaa"])
    assert again.rc == 0 and "changed=0" in again.output, again.explain()


HANDED = PLAY.split('    - name: Forget')[0] + """
- name: Read the settings where the inventory's connection settings read them
  hosts: redis_cluster
  connection: local
  gather_facts: false
  vars:
    # What deriving them again would give: the fact handed out outranks it.
    redisops_node_access: {{user: derived-again}}
  tasks:
    - name: Check the fact handed out is the value checked
      ansible.builtin.assert:
        that: redisops_node_access.user == 'admin' and redisops_node_access.bastion == 'admin@198.51.100.30'
"""


def test_checked_settings_are_handed_to_every_cluster_host_as_a_fact(tmp_path):
    """The connection settings are read for every task on every host: a fact, not a derivation each time."""
    cluster_dir = tmp_path / "ssh" / "access-test"
    cluster_dir.mkdir(parents=True)
    (cluster_dir / "access-test-key").write_text("stand-in\n")
    values = {"connection": "ssh", "bastion_host": "", "bastion_user": "admin", "user": "admin", "private_key_file": "",
              "key_pair_name": "", "known_hosts_dir": str(tmp_path / "ssh"), "ssm_bucket": ""}
    playbook = tmp_path / "handed.yml"
    playbook.write_text(HANDED.format(settings=json.dumps(values), outputs=json.dumps(OUTPUTS)))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n[redis_cluster]\nnode-a\nnode-b\n")
    result = run_playbook(playbook, inventory=str(inventory), env=ansible_env({"AWS_EC2_METADATA_DISABLED": "true"}),
                          timeout=300)
    assert result.rc == 0, result.explain()
    assert "ok=1 " in result.output.split("node-a")[-1] and "ok=1 " in result.output.split("node-b")[-1], result.explain()
