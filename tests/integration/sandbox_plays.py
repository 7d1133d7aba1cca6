"""Plays the integration tests share: the sandbox's base resources in a
private moto, as roles/sandbox_aws makes them, without containers."""

# The key pair, the base resources and the Terraform state: no bastion
# container, no IAM enforcement. Tasks of a localhost play (8 spaces deep).
BASE_RESOURCE_TASKS = """
    - name: The key pair (no bastion container)
      ansible.builtin.include_role:
        name: sandbox_aws
        tasks_from: key_pair
    - name: Base resources in moto
      ansible.builtin.include_role:
        name: sandbox_aws
        tasks_from: resources
    - name: Terraform state
      ansible.builtin.include_role:
        name: sandbox_aws
        tasks_from: terraform_state
"""


def localhost_play(name, tasks):
    """A play on localhost without facts running ``tasks`` (YAML, 4 spaces deep)."""
    return """
- name: %s
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:%s""" % (name, tasks)
