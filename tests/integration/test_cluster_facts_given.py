"""Playbooks that take the ACL users from the caller (vault, Molecule's
group_vars) import cluster_facts.yml "when: cluster_facts_acl_users is
undefined or cluster_facts_admin_user is undefined": with both given as
inventory variables, the role must read nothing and set nothing, not fail
half-way (the condition is evaluated again for every task it holds)."""

import yaml

from redisops_testlib import ROOT, ansible_env, run_playbook

USERS = [{"name": "admin", "role": "admin", "password": "given-admin-Secret-3c1"},
         {"name": "app", "role": "application", "password": "given-app-Secret-9d4"}]

PLAYBOOK = """
- name: As scale_out.yml, scale_in.yml and replace_node.yml import it
  ansible.builtin.import_playbook: {cluster_facts}
  when: cluster_facts_acl_users is undefined or cluster_facts_admin_user is undefined

- name: What localhost holds afterwards
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The given users, untouched
      ansible.builtin.assert:
        that:
          - cluster_facts_acl_users | map(attribute='name') | list == ['admin', 'app']
          - cluster_facts_admin_user.name == 'admin'
          - cluster_facts_outputs is undefined
"""


def test_given_users_skip_the_role_entirely(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {"localhost": {"ansible_connection": "local"}},
        "vars": {"cluster_facts_acl_users": USERS, "cluster_facts_admin_user": USERS[0]}}}))
    playbook = tmp_path / "given.yml"
    playbook.write_text(PLAYBOOK.format(cluster_facts=ROOT / "playbooks" / "cluster_facts.yml"))
    result = run_playbook(playbook, inventory=inventory, env=ansible_env(), timeout=300)
    assert result.rc == 0, result.explain()
    recap = result.recap()["localhost"]
    assert recap["failed"] == 0 and recap["changed"] == 0
    # The role's tasks all skipped; only the final assert ran.
    assert recap["ok"] == 1 and recap["skipped"] > 5, recap
