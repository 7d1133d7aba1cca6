# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox's base resources (Terraform's in production), as pure functions.

The module ``redisops.ec2_cluster.sandbox_base_resources`` reads what moto
holds into an *observed* mapping (:func:`plan` documents its shape), and
:func:`plan` decides, from the wanted :func:`spec` and that mapping, the
steps that make moto hold the wanted resources; the module carries them out
in order. Everything is found by name (the VPC by its Name tag and CIDR, a
subnet by its CIDR in the VPC, the KMS key by its alias), so a second run
finds everything and plans nothing.

Tags are made exactly the wanted ones (keys of others removed, ``aws:`` keys
left alone), as the amazon.aws modules did with their default purge_tags.
Ingress rules of the security group are exactly one per wanted port from the
VPC CIDR; its egress rules are left as EC2 made them. An existing key pair
and an existing SSM parameter keep their material and value: only their tags
are made the wanted ones.
"""

from __future__ import annotations

import ipaddress
import re

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,50}[a-z0-9])?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SSM_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
_AZ = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")
_KEY_TYPE = re.compile(r"^(ssh|ecdsa|sk)-[a-z0-9@.-]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 128
ROLE_POLICY_NAME = "redis-node"
SECURITY_GROUP_DESCRIPTION = "Redis Cluster client and bus ports, plain and TLS, from inside the VPC"
RULE_DESCRIPTION = "Redis client and cluster bus"
ROLE_DESCRIPTION = "Redis Cluster nodes and the AMI builder"
# The order steps are carried out in: what a later step needs comes first.
RESOURCES = ("vpc", "subnet", "key_pair", "security_group", "kms_key", "bucket", "topic", "role",
             "instance_profile", "parameter")


class BaseResourcesError(ValueError):
    """Wanted resources that cannot be made, or found ones that cannot be used."""


def _tags(value, what):
    if not isinstance(value, dict) or not all(isinstance(k, str) and k and isinstance(v, str)
                                              for k, v in value.items()):
        raise BaseResourcesError("%s: tags must be a mapping of non-empty text to text, not %r" % (what, value))
    if any(k.startswith("aws:") for k in value):
        raise BaseResourcesError("%s: tag keys starting with aws: are reserved" % what)
    return dict(value)


def spec(name, cluster_name, vpc_cidr, private_subnets, redis_ports, key_pair_name, backup_bucket, ssm_path,
         acl_users, password_length, tags):
    """Check the wanted resources and return them as one mapping.

    Everything is checked before any API call: a bad value is named in the
    error (BaseResourcesError) and nothing changes.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise BaseResourcesError("name %r: lowercase letters, digits and '-', at most 52" % (name,))
    if not isinstance(cluster_name, str) or not cluster_name:
        raise BaseResourcesError("cluster name must be non-empty text")
    try:
        vpc = ipaddress.ip_network(vpc_cidr, strict=True)
    except (TypeError, ValueError) as exc:
        raise BaseResourcesError("VPC CIDR %r: %s" % (vpc_cidr, exc))
    if vpc.version != 4 or not 16 <= vpc.prefixlen <= 28:
        raise BaseResourcesError("VPC CIDR %s: an IPv4 network from /16 to /28" % vpc)
    if not isinstance(private_subnets, list) or not private_subnets:
        raise BaseResourcesError("at least one private subnet is needed")
    subnets = []
    for entry in private_subnets:
        if not isinstance(entry, dict) or set(entry) != {"az", "cidr"}:
            raise BaseResourcesError("a private subnet is {az, cidr}, not %r" % (entry,))
        if not isinstance(entry["az"], str) or not _AZ.match(entry["az"]):
            raise BaseResourcesError("subnet %r: %r is not an availability zone name" % (entry, entry["az"]))
        try:
            network = ipaddress.ip_network(entry["cidr"], strict=True)
        except (TypeError, ValueError) as exc:
            raise BaseResourcesError("subnet CIDR %r: %s" % (entry["cidr"], exc))
        if network.version != 4 or not network.subnet_of(vpc):
            raise BaseResourcesError("subnet %s is not inside the VPC CIDR %s" % (network, vpc))
        for other in subnets:
            if other["az"] == entry["az"]:
                raise BaseResourcesError("two private subnets in %s" % entry["az"])
            if network.overlaps(ipaddress.ip_network(other["cidr"])):
                raise BaseResourcesError("subnets %s and %s overlap" % (other["cidr"], network))
        subnets.append({"az": entry["az"], "cidr": str(network)})
    if (not isinstance(redis_ports, list) or not redis_ports
            or not all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in redis_ports)
            or len(set(redis_ports)) != len(redis_ports)):
        raise BaseResourcesError("Redis ports must be distinct TCP ports, not %r" % (redis_ports,))
    if not isinstance(key_pair_name, str) or not key_pair_name or len(key_pair_name) > 255:
        raise BaseResourcesError("key pair name must be non-empty text")
    if not isinstance(backup_bucket, str) or not _BUCKET.match(backup_bucket) or ".." in backup_bucket:
        raise BaseResourcesError("%r is not an S3 bucket name" % (backup_bucket,))
    if not isinstance(ssm_path, str) or not _SSM_PATH.match(ssm_path):
        raise BaseResourcesError("SSM path %r: /-separated names, no trailing /" % (ssm_path,))
    if (not isinstance(acl_users, list) or not all(isinstance(u, str) and _USER.match(u) for u in acl_users)
            or len(set(acl_users)) != len(acl_users)):
        raise BaseResourcesError("ACL users must be distinct names of letters, digits, _ and -, not %r" % (acl_users,))
    if (not isinstance(password_length, int) or isinstance(password_length, bool)
            or not MIN_PASSWORD_LENGTH <= password_length <= MAX_PASSWORD_LENGTH):
        raise BaseResourcesError("password length must be from %d to %d, not %r"
                                 % (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, password_length))
    tags = _tags(tags, "tags")
    return {
        "name": name,
        "vpc": {"cidr": str(vpc), "tags": dict(tags, Name=name)},
        "subnets": [dict(s, tags=dict(tags, Name="%s-private-%s" % (name, s["az"]), Tier="private"))
                    for s in subnets],
        "key_pair": {"name": key_pair_name, "tags": tags},
        "security_group": {"name": name + "-redis", "description": SECURITY_GROUP_DESCRIPTION,
                           "ingress": wanted_ingress(redis_ports, str(vpc)), "tags": tags},
        "kms_key": {"alias": "alias/%s-backups" % name, "description": "Encrypts %s Redis backups" % cluster_name,
                    "tags": tags},
        "bucket": {"name": backup_bucket, "tags": tags},
        "topic": {"name": name + "-alarms", "display_name": "%s Redis alarms" % cluster_name, "tags": tags},
        "role": {"name": name + "-node", "description": ROLE_DESCRIPTION, "policy_name": ROLE_POLICY_NAME,
                 "tags": tags},
        "instance_profile": {"name": name + "-node", "tags": tags},
        "parameters": [{"user": u, "name": "%s/acl/%s" % (ssm_path, u),
                        "description": "Redis ACL password of user %s" % u} for u in acl_users],
        "parameter_tags": tags,
        "password_length": password_length,
    }


def wanted_ingress(ports, cidr, description=RULE_DESCRIPTION):
    """One TCP rule per port from the CIDR, as ``(port, port, cidr) -> description``."""
    return {("tcp", p, p, cidr): description for p in ports}


def ingress_rules(ip_permissions):
    """EC2's IpPermissions flattened to ``(protocol, from, to, cidr) -> description``.

    Rules from other groups, prefix lists or IPv6 ranges are kept as
    ``(protocol, from, to, <source id>)`` so that they count as unwanted.
    """
    rules = {}
    for permission in ip_permissions or []:
        key = (str(permission.get("IpProtocol")), permission.get("FromPort"), permission.get("ToPort"))
        for item in permission.get("IpRanges", []):
            rules[key + (item["CidrIp"],)] = item.get("Description")
        for item in permission.get("Ipv6Ranges", []):
            rules[key + (item["CidrIpv6"],)] = item.get("Description")
        for item in permission.get("PrefixListIds", []):
            rules[key + (item["PrefixListId"],)] = item.get("Description")
        for item in permission.get("UserIdGroupPairs", []):
            rules[key + (item["GroupId"],)] = item.get("Description")
    return rules


def ip_permission(rule, description=None):
    """The IpPermissions entry of one flattened rule, by the kind of its source."""
    protocol, low, high, source = rule
    if source.startswith("sg-"):
        field, entry = "UserIdGroupPairs", {"GroupId": source}
    elif source.startswith("pl-"):
        field, entry = "PrefixListIds", {"PrefixListId": source}
    elif ":" in source:
        field, entry = "Ipv6Ranges", {"CidrIpv6": source}
    else:
        field, entry = "IpRanges", {"CidrIp": source}
    if description is not None:
        entry["Description"] = description
    permission = {"IpProtocol": protocol, field: [entry]}
    if low is not None:
        permission.update(FromPort=low, ToPort=high)
    return permission


def rule_changes(current, wanted):
    """``(authorize, revoke, describe)``: rules to add, to remove and to re-describe, each sorted."""
    authorize = sorted((r for r in wanted if r not in current), key=_rule_order)
    revoke = sorted((r for r in current if r not in wanted), key=_rule_order)
    describe = sorted((r for r in wanted if r in current and current[r] != wanted[r]), key=_rule_order)
    return authorize, revoke, describe


def _rule_order(rule):
    return tuple("" if part is None else "%08d" % part if isinstance(part, int) else part for part in rule)


def tag_changes(current, wanted):
    """``(to_set, to_remove)``: the tags to set (mapping) and keys to remove (sorted).

    Keys starting with ``aws:`` belong to AWS and are never removed.
    """
    current = current or {}
    to_set = {k: v for k, v in sorted(wanted.items()) if current.get(k) != v}
    to_remove = sorted(k for k in current if k not in wanted and not k.startswith("aws:"))
    return to_set, to_remove


def key_material(public_key):
    """The part of an OpenSSH public key line that is the key: its type and
    base64 body, without the comment (``None`` when it is no such line)."""
    fields = (public_key or "").split()
    if len(fields) < 2 or not _KEY_TYPE.match(fields[0]) or not _BASE64.match(fields[1]):
        return None
    return " ".join(fields[:2])


def tags_of(items, key="Key", value="Value"):
    """A tag list (``[{Key, Value}]``, KMS: ``TagKey``/``TagValue``) as a mapping."""
    return {item[key]: item[value] for item in items or []}


def tag_list(tags, key="Key", value="Value"):
    """A mapping as a tag list, in its order."""
    return [{key: k, value: v} for k, v in tags.items()]


def _tag_steps(resource, name, current_tags, wanted_tags):
    to_set, to_remove = tag_changes(current_tags, wanted_tags)
    steps = []
    if to_set:
        steps.append((resource, name, "tag", to_set))
    if to_remove:
        steps.append((resource, name, "untag", to_remove))
    return steps


def bucket_settings_wanted(kms_key_arn):
    """Versioning, default encryption and public access block of the backup bucket."""
    return {
        "versioning": "Enabled",
        "encryption": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn, "BucketKeyEnabled": True},
        "public_access_block": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                                "RestrictPublicBuckets": True},
    }


def plan(wanted, observed, trust_policy, role_policy):
    """The steps that make moto hold ``wanted``, in the order to carry them out.

    ``observed`` (from the module's reads; ``None`` for what does not exist):
    ``vpc`` {id, cidr, dns_support, dns_hostnames, tags}; ``subnets`` {cidr:
    {id, az, map_public, tags}} of that VPC; ``key_pair`` {tags, material
    (:func:`key_material` of the key moto holds; replaced when it differs
    from ``wanted``'s, which the caller sets from the key file)};
    ``security_group`` {id, ingress (see :func:`ingress_rules`), tags};
    ``kms_key`` {arn, description, enabled, tags}; ``bucket`` {versioning,
    encryption {SSEAlgorithm, KMSMasterKeyID, BucketKeyEnabled},
    public_access_block, tags}; ``topic`` {display_name, tags}; ``role``
    {trust, description, policy, tags}; ``instance_profile`` {roles, tags};
    ``parameters`` {name: {tags}}.

    ``role_policy`` is the node policy rendered with the key's ARN, or None
    while the key does not exist yet (then the policy is put with the role
    or right after the key is created: the step carries no document).

    A step is ``(resource, name, action, detail)``; actions: ``create``
    (detail: what to create with), ``tag`` (tags to set), ``untag`` (keys),
    ``set`` (attributes to change), ``authorize``/``revoke``/``describe``
    (rules), ``put_policy`` (document or None), ``add_role``.
    """
    steps = []
    vpc = observed.get("vpc")
    name = wanted["name"]
    if vpc is None:
        steps.append(("vpc", name, "create", {"cidr": wanted["vpc"]["cidr"], "tags": wanted["vpc"]["tags"]}))
        steps.append(("vpc", name, "set", {"dns_support": True, "dns_hostnames": True}))
    else:
        if vpc["cidr"] != wanted["vpc"]["cidr"]:
            raise BaseResourcesError("VPC %s (%s) has CIDR %s, not %s" % (name, vpc["id"], vpc["cidr"],
                                                                         wanted["vpc"]["cidr"]))
        change = {k: True for k in ("dns_support", "dns_hostnames") if not vpc[k]}
        if change:
            steps.append(("vpc", name, "set", change))
        steps += _tag_steps("vpc", name, vpc["tags"], wanted["vpc"]["tags"])

    found_subnets = observed.get("subnets") or {}
    for subnet in wanted["subnets"]:
        current = found_subnets.get(subnet["cidr"])
        label = subnet["az"]
        if current is None:
            steps.append(("subnet", label, "create", {"az": subnet["az"], "cidr": subnet["cidr"],
                                                      "tags": subnet["tags"]}))
            continue
        if current["az"] != subnet["az"]:
            raise BaseResourcesError("subnet %s (%s) is in %s, not %s; remove it or change sandbox_aws_private_subnets"
                                     % (subnet["cidr"], current["id"], current["az"], subnet["az"]))
        if current["map_public"]:
            steps.append(("subnet", label, "set", {"map_public": False}))
        steps += _tag_steps("subnet", label, current["tags"], subnet["tags"])

    key_pair = observed.get("key_pair")
    wanted_key = wanted["key_pair"]
    if key_pair is None:
        steps.append(("key_pair", wanted_key["name"], "create", {"tags": wanted_key["tags"]}))
    elif key_pair.get("material") and key_pair["material"] != wanted_key.get("material"):
        # Another key under the name (the sandbox's key file was made again):
        # instances launched from now on must get the key the controller has.
        steps.append(("key_pair", wanted_key["name"], "replace", {"tags": wanted_key["tags"]}))
    else:
        steps += _tag_steps("key_pair", wanted_key["name"], key_pair["tags"], wanted_key["tags"])

    group = observed.get("security_group")
    wanted_group = wanted["security_group"]
    if group is None:
        steps.append(("security_group", wanted_group["name"], "create",
                      {"description": wanted_group["description"], "tags": wanted_group["tags"]}))
        current_rules = {}
    else:
        current_rules = group["ingress"]
        steps += _tag_steps("security_group", wanted_group["name"], group["tags"], wanted_group["tags"])
    authorize, revoke, describe = rule_changes(current_rules, wanted_group["ingress"])
    if revoke:
        steps.append(("security_group", wanted_group["name"], "revoke", revoke))
    if authorize:
        steps.append(("security_group", wanted_group["name"], "authorize",
                      [(r, wanted_group["ingress"][r]) for r in authorize]))
    if describe:
        steps.append(("security_group", wanted_group["name"], "describe",
                      [(r, wanted_group["ingress"][r]) for r in describe]))

    key = observed.get("kms_key")
    wanted_kms = wanted["kms_key"]
    if key is None:
        steps.append(("kms_key", wanted_kms["alias"], "create",
                      {"description": wanted_kms["description"], "tags": wanted_kms["tags"]}))
    else:
        change = {}
        if key["description"] != wanted_kms["description"]:
            change["description"] = wanted_kms["description"]
        if not key["enabled"]:
            change["enabled"] = True
        if change:
            steps.append(("kms_key", wanted_kms["alias"], "set", change))
        steps += _tag_steps("kms_key", wanted_kms["alias"], key["tags"], wanted_kms["tags"])

    bucket = observed.get("bucket")
    wanted_bucket = wanted["bucket"]
    if bucket is None:
        steps.append(("bucket", wanted_bucket["name"], "create", {"tags": wanted_bucket["tags"]}))
        steps.append(("bucket", wanted_bucket["name"], "set", ["versioning", "encryption", "public_access_block"]))
    else:
        settings = bucket_settings_wanted(key["arn"] if key else None)
        change = [k for k in ("versioning", "encryption", "public_access_block") if bucket[k] != settings[k]]
        if change:
            steps.append(("bucket", wanted_bucket["name"], "set", change))
        steps += _tag_steps("bucket", wanted_bucket["name"], bucket["tags"], wanted_bucket["tags"])

    topic = observed.get("topic")
    wanted_topic = wanted["topic"]
    if topic is None:
        steps.append(("topic", wanted_topic["name"], "create",
                      {"display_name": wanted_topic["display_name"], "tags": wanted_topic["tags"]}))
    else:
        if topic["display_name"] != wanted_topic["display_name"]:
            steps.append(("topic", wanted_topic["name"], "set", {"display_name": wanted_topic["display_name"]}))
        steps += _tag_steps("topic", wanted_topic["name"], topic["tags"], wanted_topic["tags"])

    role = observed.get("role")
    wanted_role = wanted["role"]
    if role is None:
        steps.append(("role", wanted_role["name"], "create",
                      {"trust": trust_policy, "description": wanted_role["description"], "tags": wanted_role["tags"]}))
        steps.append(("role", wanted_role["name"], "put_policy", role_policy))
    else:
        change = {}
        if role["trust"] != trust_policy:
            change["trust"] = trust_policy
        if role["description"] != wanted_role["description"]:
            change["description"] = wanted_role["description"]
        if change:
            steps.append(("role", wanted_role["name"], "set", change))
        steps += _tag_steps("role", wanted_role["name"], role["tags"], wanted_role["tags"])
        if role_policy is None or role["policy"] != role_policy:
            steps.append(("role", wanted_role["name"], "put_policy", role_policy))

    profile = observed.get("instance_profile")
    wanted_profile = wanted["instance_profile"]
    if profile is None:
        steps.append(("instance_profile", wanted_profile["name"], "create", {"tags": wanted_profile["tags"]}))
        steps.append(("instance_profile", wanted_profile["name"], "add_role", wanted_role["name"]))
    else:
        if profile["roles"] != [wanted_role["name"]]:
            if profile["roles"]:
                raise BaseResourcesError("instance profile %s holds role %s, not %s" % (
                    wanted_profile["name"], ", ".join(profile["roles"]), wanted_role["name"]))
            steps.append(("instance_profile", wanted_profile["name"], "add_role", wanted_role["name"]))
        steps += _tag_steps("instance_profile", wanted_profile["name"], profile["tags"], wanted_profile["tags"])

    parameters = observed.get("parameters") or {}
    for parameter in wanted["parameters"]:
        current = parameters.get(parameter["name"])
        if current is None:
            steps.append(("parameter", parameter["name"], "create",
                          {"description": parameter["description"], "tags": wanted["parameter_tags"]}))
        else:
            steps += _tag_steps("parameter", parameter["name"], current["tags"], wanted["parameter_tags"])
    return steps


def summary(steps):
    """What was (would be) created or changed: one ``<resource> <name>: <actions>`` line per resource."""
    lines = []
    seen = {}
    for resource, name, action, _ in steps:
        label = "%s %s" % (resource, name)
        if label not in seen:
            seen[label] = []
            lines.append(label)
        if action not in seen[label]:
            seen[label].append(action)
    return ["%s: %s" % (label, ", ".join(seen[label])) for label in lines]
