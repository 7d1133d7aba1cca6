"""ACL users of the role inputs the node_input and acl_rules tests share."""

PASSWORD = "x" * 20


def users(**overrides):
    base = [
        {"name": "admin", "role": "admin", "password": "admin-" + PASSWORD},
        {"name": "replicator", "role": "replication", "password": "repl-" + PASSWORD},
        {"name": "agent", "role": "agent", "password": "agent-" + PASSWORD},
        {"name": "app", "role": "application", "password": "app-" + PASSWORD, "keys": ["app:*"]},
    ]
    for user in base:
        user.update(overrides.get(user["name"], {}))
    return base
