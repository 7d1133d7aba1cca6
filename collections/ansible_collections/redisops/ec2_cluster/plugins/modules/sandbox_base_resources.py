#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sandbox_base_resources
short_description: The sandbox's base resources in its moto, in one module run
version_added: "0.3.0"
description:
  - Makes the local sandbox's moto server hold the base resources Terraform creates in production, with one
    boto3 session - the VPC (DNS support and hostnames), one private subnet per availability zone, the EC2 key
    pair, the Redis security group (one TCP rule per port from the VPC CIDR), the backup KMS key (alias
    C(alias/<name>-backups)), the backup bucket (versioned, SSE-KMS with that key and an S3 bucket key, public
    access blocked), the alarm topic, the node IAM role with its inline policy C(redis-node) and instance
    profile, and one SSM SecureString parameter per ACL user holding a generated password.
  - Everything is found by name (the VPC by its C(Name) tag and CIDR, a subnet by its CIDR in the VPC, the key
    by its alias), so a second run changes nothing. Tags are made exactly O(tags) (plus C(Name) and C(Tier)
    where they name the resource). A key pair holding another key than O(public_key) is imported again
    (the instances launched next get the controller's key); an existing parameter keeps its
    value - a password is generated (letters and digits, module C(secrets)) only for a parameter that does
    not exist, and never returned.
  - The node policy is rendered here from O(node_policy_template) (C(iam/node.json.tpl)), once the account id
    and the KMS key's ARN are known - they are added to O(node_policy_values) as C(account_id) and
    C(backup_kms_key_arn).
  - The decisions are made by C(plugins/module_utils/sandbox_base_resources.py); this module reads and calls
    the APIs.
  - Only C(http://127.0.0.1) or C(http://localhost) endpoints are accepted, and bad input is refused before
    any API call.
  - "Check mode reads only and reports what would be created or changed; the ids of resources that do not exist
    yet are returned as null (the topic's ARN and the instance profile's name are known anyway)."
  - Diff mode shows the lines of RV(changes).
author:
  - redisops maintainers
options:
  endpoint_url:
    description: The sandbox's moto, C(http://127.0.0.1:<port>).
    type: str
    required: true
  region:
    description: Region of every resource.
    type: str
    required: true
  access_key:
    description: The key the calls are signed with (the sandbox principal's, or moto's dummy key).
    type: str
    required: true
  secret_key:
    description: Its secret.
    type: str
    required: true
  timeout_s:
    description: Connect and read timeout of each request to moto.
    type: int
    default: 10
  name:
    description: >-
      Base of the resource names, C(redisops-<cluster_name>): the VPC's C(Name), C(<name>-private-<az>),
      C(<name>-redis), C(alias/<name>-backups), C(<name>-alarms), C(<name>-node).
    type: str
    required: true
  cluster_name:
    description: The cluster's name, in the descriptions of the KMS key and the topic.
    type: str
    required: true
  vpc_cidr:
    description: CIDR of the VPC, and the only source of the security group's rules.
    type: str
    required: true
  private_subnets:
    description: One private subnet per availability zone.
    type: list
    elements: dict
    required: true
    suboptions:
      az:
        description: Availability zone.
        type: str
        required: true
      cidr:
        description: Subnet CIDR inside O(vpc_cidr).
        type: str
        required: true
  redis_ports:
    description: TCP ports opened from O(vpc_cidr).
    type: list
    elements: int
    required: true
  key_pair_name:
    description: Name of the EC2 key pair.
    type: str
    required: true
  public_key:
    description:
      - The key pair's public key (an OpenSSH public key line), imported when the key pair does not exist
        or holds another key (the comment is not compared).
    type: str
    required: true
  backup_bucket:
    description: Name of the backup bucket.
    type: str
    required: true
  ssm_path:
    description: The cluster's SSM path; the passwords are C(<ssm_path>/acl/<user>).
    type: str
    required: true
  acl_users:
    description: ACL users that get a generated password.
    type: list
    elements: str
    required: true
  password_length:
    description: Length of a generated password.
    type: int
    default: 32
  tags:
    description: Tags of every resource.
    type: dict
    required: true
  trust_policy:
    description: The node role's trust policy (who may assume it).
    type: dict
    required: true
  node_policy_template:
    description: The text of the node policy template, C(iam/node.json.tpl).
    type: str
    required: true
  node_policy_values:
    description: >-
      The template's placeholder values other than C(account_id) and C(backup_kms_key_arn), which this module
      adds (values the template does not use are ignored).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Create the base resources in moto
  redisops.ec2_cluster.sandbox_base_resources:
    endpoint_url: http://127.0.0.1:5000
    region: us-west-2
    access_key: testing
    secret_key: testing
    name: redisops-sandbox
    cluster_name: sandbox
    vpc_cidr: 10.77.0.0/16
    private_subnets:
      - {az: us-west-2a, cidr: 10.77.1.0/24}
      - {az: us-west-2b, cidr: 10.77.2.0/24}
      - {az: us-west-2c, cidr: 10.77.3.0/24}
    redis_ports: [6379, 16379, 6380, 16380]
    key_pair_name: redisops-sandbox
    public_key: "{{ lookup('ansible.builtin.file', '.sandbox/ssh/redisops-sandbox.pub') }}"
    backup_bucket: redisops-sandbox-backups
    ssm_path: /redisops/sandbox
    acl_users: [admin, replication, agent, app]
    tags: {Project: redisops, Environment: sandbox, RedisCluster: sandbox}
    trust_policy: "{{ lookup('ansible.builtin.file', 'ec2-trust-policy.json') | from_json }}"
    node_policy_template: "{{ lookup('redisops.ec2_cluster.iam_policy', 'node', template=true) }}"
    node_policy_values: {region: us-west-2, cluster_name: sandbox, backup_bucket: redisops-sandbox-backups}
  register: base
"""

RETURN = r"""
account_id:
  description: The account moto answers for.
  returned: always
  type: str
  sample: "123456789012"
vpc_id:
  description: The VPC's id (null in check mode while it does not exist).
  returned: always
  type: str
private_subnet_ids:
  description: The private subnet of each availability zone (ids null in check mode while they do not exist).
  returned: always
  type: dict
  sample: {us-west-2a: subnet-0123456789abcdef0}
security_group_id:
  description: The Redis security group's id.
  returned: always
  type: str
kms_key_arn:
  description: The backup KMS key's ARN.
  returned: always
  type: str
topic_arn:
  description: The alarm topic's ARN.
  returned: always
  type: str
instance_profile:
  description: The node instance profile's name.
  returned: always
  type: str
  sample: redisops-sandbox-node
changes:
  description: "What was (in check mode, would be) created or changed, C(<resource> <name>: <actions>) per line."
  returned: always
  type: list
  elements: str
  sample: ["vpc redisops-sandbox: create, set", "parameter /redisops/sandbox/acl/admin: create"]
"""

import json
import secrets
import string
import urllib.parse

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_base_resources as base
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_identity

try:
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    boto3 = None

PASSWORD_ALPHABET = string.ascii_letters + string.digits
MODULE_POLICY_VALUES = ("account_id", "backup_kms_key_arn")


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "")


class Moto:
    """The reads and calls; the decisions are base.plan's."""

    def __init__(self, module):
        params = module.params
        self.module = module
        self.region = params["region"]
        config = botocore.config.Config(connect_timeout=params["timeout_s"], read_timeout=params["timeout_s"],
                                        retries={"max_attempts": 2})
        session = boto3.session.Session(aws_access_key_id=params["access_key"],
                                        aws_secret_access_key=params["secret_key"], region_name=self.region)
        self._clients = {}
        self._client = lambda service: session.client(service, endpoint_url=params["endpoint_url"].rstrip("/"),
                                                      config=config)
        self.ids = {}

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    # Reads: what exists, in the shape base.plan documents.
    def observe(self, wanted):
        ec2 = self.client("ec2")
        observed = {"account_id": self.client("sts").get_caller_identity()["Account"]}
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [wanted["name"]]},
                                          {"Name": "cidr", "Values": [wanted["vpc"]["cidr"]]}])["Vpcs"]
        if len(vpcs) > 1:
            raise base.BaseResourcesError("%d VPCs are named %s with CIDR %s; remove all but one"
                                          % (len(vpcs), wanted["name"], wanted["vpc"]["cidr"]))
        observed["vpc"] = None
        observed["subnets"] = {}
        observed["security_group"] = None
        if vpcs:
            vpc_id = self.ids["vpc"] = vpcs[0]["VpcId"]
            observed["vpc"] = {
                "id": vpc_id, "cidr": vpcs[0]["CidrBlock"], "tags": base.tags_of(vpcs[0].get("Tags")),
                "dns_support": ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsSupport")
                ["EnableDnsSupport"]["Value"],
                "dns_hostnames": ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
                ["EnableDnsHostnames"]["Value"]}
            for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
                observed["subnets"][subnet["CidrBlock"]] = {
                    "id": subnet["SubnetId"], "az": subnet["AvailabilityZone"],
                    "map_public": subnet.get("MapPublicIpOnLaunch", False), "tags": base.tags_of(subnet.get("Tags"))}
            groups = ec2.describe_security_groups(Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": [wanted["security_group"]["name"]]}])["SecurityGroups"]
            if groups:
                self.ids["security_group"] = groups[0]["GroupId"]
                observed["security_group"] = {"id": groups[0]["GroupId"], "tags": base.tags_of(groups[0].get("Tags")),
                                              "ingress": base.ingress_rules(groups[0].get("IpPermissions"))}
        self.ids["subnets"] = {s["az"]: observed["subnets"][s["cidr"]]["id"]
                               for s in wanted["subnets"] if s["cidr"] in observed["subnets"]}

        try:
            pair = ec2.describe_key_pairs(KeyNames=[wanted["key_pair"]["name"]], IncludePublicKey=True)["KeyPairs"][0]
            self.ids["key_pair"] = pair["KeyPairId"]
            observed["key_pair"] = {"tags": base.tags_of(pair.get("Tags")),
                                    "material": base.key_material(pair.get("PublicKey"))}
        except ClientError as exc:
            if _code(exc) != "InvalidKeyPair.NotFound":
                raise
            observed["key_pair"] = None

        kms = self.client("kms")
        try:
            key = kms.describe_key(KeyId=wanted["kms_key"]["alias"])["KeyMetadata"]
            if key.get("KeyState") == "PendingDeletion":
                raise base.BaseResourcesError("KMS key %s (%s) is pending deletion; cancel it or remove the alias"
                                              % (wanted["kms_key"]["alias"], key["Arn"]))
            self.ids["kms_key"] = key["Arn"]
            observed["kms_key"] = {"arn": key["Arn"], "description": key.get("Description", ""),
                                   "enabled": key.get("Enabled", False),
                                   "tags": base.tags_of(kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags"),
                                                        "TagKey", "TagValue")}
        except ClientError as exc:
            if _code(exc) != "NotFoundException":
                raise
            observed["kms_key"] = None

        observed["bucket"] = self._observe_bucket(wanted["bucket"]["name"])

        sns = self.client("sns")
        topic_arn = self.ids["topic"] = "arn:aws:sns:%s:%s:%s" % (self.region, observed["account_id"],
                                                                  wanted["topic"]["name"])
        try:
            attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
            observed["topic"] = {"display_name": attributes.get("DisplayName", ""),
                                 "tags": base.tags_of(sns.list_tags_for_resource(ResourceArn=topic_arn).get("Tags"))}
        except ClientError as exc:
            if _code(exc) not in ("NotFound", "NotFoundException"):
                raise
            observed["topic"] = None

        iam = self.client("iam")
        role_name = wanted["role"]["name"]
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
            try:
                policy = iam.get_role_policy(RoleName=role_name, PolicyName=base.ROLE_POLICY_NAME)["PolicyDocument"]
            except ClientError as exc:
                if _code(exc) != "NoSuchEntity":
                    raise
                policy = None
            observed["role"] = {"trust": _document(role.get("AssumeRolePolicyDocument")),
                                "description": role.get("Description", ""), "policy": _document(policy),
                                "tags": base.tags_of(role.get("Tags"))}
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            observed["role"] = None
        try:
            profile = iam.get_instance_profile(InstanceProfileName=wanted["instance_profile"]["name"])["InstanceProfile"]
            observed["instance_profile"] = {"roles": [r["RoleName"] for r in profile.get("Roles", [])],
                                            "tags": base.tags_of(profile.get("Tags"))}
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            observed["instance_profile"] = None

        ssm = self.client("ssm")
        names = [p["name"] for p in wanted["parameters"]]
        observed["parameters"] = {}
        for start in range(0, len(names), 50):
            pages = ssm.get_paginator("describe_parameters").paginate(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": names[start:start + 50]}])
            for page in pages:
                for parameter in page["Parameters"]:
                    observed["parameters"][parameter["Name"]] = {"tags": base.tags_of(ssm.list_tags_for_resource(
                        ResourceType="Parameter", ResourceId=parameter["Name"]).get("TagList"))}
        return observed

    def _observe_bucket(self, name):
        s3 = self.client("s3")
        try:
            tags = base.tags_of(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
        except ClientError as exc:
            if _code(exc) in ("NoSuchBucket", "404"):
                return None
            if _code(exc) != "NoSuchTagSet":
                raise
            tags = {}
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
        try:
            rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            encryption = {"SSEAlgorithm": default.get("SSEAlgorithm"), "KMSMasterKeyID": default.get("KMSMasterKeyID"),
                          "BucketKeyEnabled": rule.get("BucketKeyEnabled", False)}
        except ClientError as exc:
            if _code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            encryption = None
        try:
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if _code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            block = None
        return {"versioning": versioning, "encryption": encryption, "public_access_block": block, "tags": tags}

    # Calls: one step each.
    def carry_out(self, wanted, step, public_key, trust_policy, render_policy, account_id):
        resource, name, action, detail = step
        getattr(self, "_" + resource)(wanted, name, action, detail, public_key=public_key, trust_policy=trust_policy,
                                      render_policy=render_policy, account_id=account_id)

    def _ec2_tags(self, resource_id, action, detail):
        ec2 = self.client("ec2")
        if action == "tag":
            ec2.create_tags(Resources=[resource_id], Tags=base.tag_list(detail))
        elif action == "untag":
            ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": k} for k in detail])

    def _vpc(self, wanted, name, action, detail, **_):
        ec2 = self.client("ec2")
        if action == "create":
            self.ids["vpc"] = ec2.create_vpc(CidrBlock=detail["cidr"], TagSpecifications=[
                {"ResourceType": "vpc", "Tags": base.tag_list(detail["tags"])}])["Vpc"]["VpcId"]
            ec2.get_waiter("vpc_available").wait(VpcIds=[self.ids["vpc"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        elif action == "set":
            # One attribute per call (EC2's rule).
            if "dns_support" in detail:
                ec2.modify_vpc_attribute(VpcId=self.ids["vpc"], EnableDnsSupport={"Value": True})
            if "dns_hostnames" in detail:
                ec2.modify_vpc_attribute(VpcId=self.ids["vpc"], EnableDnsHostnames={"Value": True})
        else:
            self._ec2_tags(self.ids["vpc"], action, detail)

    def _subnet(self, wanted, name, action, detail, **_):
        if action == "create":
            self.ids["subnets"][name] = self.client("ec2").create_subnet(
                VpcId=self.ids["vpc"], CidrBlock=detail["cidr"], AvailabilityZone=detail["az"],
                TagSpecifications=[{"ResourceType": "subnet", "Tags": base.tag_list(detail["tags"])}])["Subnet"]["SubnetId"]
        elif action == "set":
            self.client("ec2").modify_subnet_attribute(SubnetId=self.ids["subnets"][name],
                                                       MapPublicIpOnLaunch={"Value": False})
        else:
            self._ec2_tags(self.ids["subnets"][name], action, detail)

    def _key_pair(self, wanted, name, action, detail, public_key, **_):
        if action == "replace":
            self.client("ec2").delete_key_pair(KeyName=name)
        if action in ("create", "replace"):
            self.ids["key_pair"] = self.client("ec2").import_key_pair(
                KeyName=name, PublicKeyMaterial=public_key.encode(),
                TagSpecifications=[{"ResourceType": "key-pair", "Tags": base.tag_list(detail["tags"])}])["KeyPairId"]
        else:
            self._ec2_tags(self.ids["key_pair"], action, detail)

    def _security_group(self, wanted, name, action, detail, **_):
        ec2 = self.client("ec2")
        if action == "create":
            self.ids["security_group"] = ec2.create_security_group(
                GroupName=name, Description=detail["description"], VpcId=self.ids["vpc"],
                TagSpecifications=[{"ResourceType": "security-group", "Tags": base.tag_list(detail["tags"])}])["GroupId"]
        elif action == "authorize":
            ec2.authorize_security_group_ingress(GroupId=self.ids["security_group"],
                                                 IpPermissions=[base.ip_permission(r, d) for r, d in detail])
        elif action == "revoke":
            ec2.revoke_security_group_ingress(GroupId=self.ids["security_group"],
                                              IpPermissions=[base.ip_permission(r) for r in detail])
        elif action == "describe":
            ec2.update_security_group_rule_descriptions_ingress(
                GroupId=self.ids["security_group"], IpPermissions=[base.ip_permission(r, d) for r, d in detail])
        else:
            self._ec2_tags(self.ids["security_group"], action, detail)

    def _kms_key(self, wanted, name, action, detail, **_):
        kms = self.client("kms")
        if action == "create":
            key = kms.create_key(Description=detail["description"], KeyUsage="ENCRYPT_DECRYPT", MultiRegion=False,
                                 Tags=base.tag_list(detail["tags"], "TagKey", "TagValue"))["KeyMetadata"]
            kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
            self.ids["kms_key"] = key["Arn"]
        elif action == "set":
            if "description" in detail:
                kms.update_key_description(KeyId=self.ids["kms_key"], Description=detail["description"])
            if "enabled" in detail:
                kms.enable_key(KeyId=self.ids["kms_key"])
        elif action == "tag":
            kms.tag_resource(KeyId=self.ids["kms_key"], Tags=base.tag_list(detail, "TagKey", "TagValue"))
        elif action == "untag":
            kms.untag_resource(KeyId=self.ids["kms_key"], TagKeys=list(detail))

    def _bucket(self, wanted, name, action, detail, **_):
        s3 = self.client("s3")
        if action == "create":
            location = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            s3.create_bucket(Bucket=name, **location)
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": base.tag_list(detail["tags"])})
        elif action == "set":
            settings = base.bucket_settings_wanted(self.ids["kms_key"])
            if "versioning" in detail:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": settings["versioning"]})
            if "encryption" in detail:
                encryption = settings["encryption"]
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": encryption["SSEAlgorithm"],
                                                           "KMSMasterKeyID": encryption["KMSMasterKeyID"]},
                    "BucketKeyEnabled": encryption["BucketKeyEnabled"]}]})
            if "public_access_block" in detail:
                s3.put_public_access_block(Bucket=name,
                                           PublicAccessBlockConfiguration=settings["public_access_block"])
        else:
            # S3 replaces a bucket's whole tag set.
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": base.tag_list(wanted["bucket"]["tags"])})

    def _topic(self, wanted, name, action, detail, **_):
        sns = self.client("sns")
        if action == "create":
            self.ids["topic"] = sns.create_topic(Name=name, Attributes={"DisplayName": detail["display_name"]},
                                                 Tags=base.tag_list(detail["tags"]))["TopicArn"]
        elif action == "set":
            sns.set_topic_attributes(TopicArn=self.ids["topic"], AttributeName="DisplayName",
                                     AttributeValue=detail["display_name"])
        elif action == "tag":
            sns.tag_resource(ResourceArn=self.ids["topic"], Tags=base.tag_list(detail))
        elif action == "untag":
            sns.untag_resource(ResourceArn=self.ids["topic"], TagKeys=list(detail))

    def _role(self, wanted, name, action, detail, trust_policy, render_policy, account_id, **_):
        iam = self.client("iam")
        if action == "create":
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy),
                            Description=detail["description"], Tags=base.tag_list(detail["tags"]))
        elif action == "set":
            if "trust" in detail:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust_policy))
            if "description" in detail:
                iam.update_role(RoleName=name, Description=detail["description"])
        elif action == "put_policy":
            # Rendered now: the key's ARN is known once the key step ran.
            iam.put_role_policy(RoleName=name, PolicyName=base.ROLE_POLICY_NAME,
                                PolicyDocument=json.dumps(render_policy(account_id, self.ids["kms_key"])))
        elif action == "tag":
            iam.tag_role(RoleName=name, Tags=base.tag_list(detail))
        elif action == "untag":
            iam.untag_role(RoleName=name, TagKeys=list(detail))

    def _instance_profile(self, wanted, name, action, detail, **_):
        iam = self.client("iam")
        if action == "create":
            iam.create_instance_profile(InstanceProfileName=name, Tags=base.tag_list(detail["tags"]))
        elif action == "add_role":
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=detail)
        elif action == "tag":
            iam.tag_instance_profile(InstanceProfileName=name, Tags=base.tag_list(detail))
        elif action == "untag":
            iam.untag_instance_profile(InstanceProfileName=name, TagKeys=list(detail))

    def _parameter(self, wanted, name, action, detail, **_):
        ssm = self.client("ssm")
        if action == "create":
            password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(wanted["password_length"]))
            self.module.no_log_values.add(password)
            ssm.put_parameter(Name=name, Description=detail["description"], Value=password, Type="SecureString",
                              Tags=base.tag_list(detail["tags"]))
        elif action == "tag":
            ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=base.tag_list(detail))
        elif action == "untag":
            ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=list(detail))


def _document(value):
    """A policy document as a dict (IAM may answer with URL-encoded JSON text)."""
    if value is None or isinstance(value, dict):
        return value
    text = urllib.parse.unquote(value)
    try:
        return json.loads(text)
    except ValueError:
        return text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoint_url=dict(type="str", required=True),
            region=dict(type="str", required=True),
            access_key=dict(type="str", required=True, no_log=False),
            secret_key=dict(type="str", required=True, no_log=True),
            timeout_s=dict(type="int", default=10),
            name=dict(type="str", required=True),
            cluster_name=dict(type="str", required=True),
            vpc_cidr=dict(type="str", required=True),
            private_subnets=dict(type="list", elements="dict", required=True, options=dict(
                az=dict(type="str", required=True), cidr=dict(type="str", required=True))),
            redis_ports=dict(type="list", elements="int", required=True),
            key_pair_name=dict(type="str", required=True, no_log=False),
            public_key=dict(type="str", required=True, no_log=False),
            backup_bucket=dict(type="str", required=True),
            ssm_path=dict(type="str", required=True),
            acl_users=dict(type="list", elements="str", required=True),
            password_length=dict(type="int", default=32, no_log=False),
            tags=dict(type="dict", required=True),
            trust_policy=dict(type="dict", required=True),
            node_policy_template=dict(type="str", required=True),
            node_policy_values=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    if boto3 is None:
        module.fail_json(msg=missing_required_lib("boto3"))
    params = module.params
    problem = sandbox_identity.moto_endpoint_problem(params["endpoint_url"])
    if problem:
        module.fail_json(msg=problem)
    try:
        wanted = base.spec(params["name"], params["cluster_name"], params["vpc_cidr"], params["private_subnets"],
                           params["redis_ports"], params["key_pair_name"], params["backup_bucket"],
                           params["ssm_path"], params["acl_users"], params["password_length"], params["tags"])
        wanted["key_pair"]["material"] = base.key_material(params["public_key"])
        if wanted["key_pair"]["material"] is None:
            raise base.BaseResourcesError("public_key: an OpenSSH public key line (type and key), not %r"
                                          % params["public_key"])
        trust = params["trust_policy"]
        if trust.get("Version") != iam_policies.POLICY_VERSION or not isinstance(trust.get("Statement"), list):
            raise base.BaseResourcesError("trust_policy: a policy document (Version %s, a Statement list), not %r"
                                          % (iam_policies.POLICY_VERSION, trust))
        given = sorted(set(MODULE_POLICY_VALUES) & set(params["node_policy_values"]))
        if given:
            raise base.BaseResourcesError("node_policy_values: %s come from moto, leave them out" % ", ".join(given))
        used = iam_policies.placeholders(params["node_policy_template"], "node_policy_template")
        # Every other value is checked now, with stand-ins for the two that come from moto.
        iam_policies.render(params["node_policy_template"], _policy_values(used, params, "000000000000", "arn"),
                            "node_policy_template")
    except (base.BaseResourcesError, iam_policies.PolicyError) as exc:
        module.fail_json(msg=str(exc))

    def render_policy(account_id, key_arn):
        return iam_policies.render(params["node_policy_template"], _policy_values(used, params, account_id, key_arn),
                                   "node_policy_template")

    moto = Moto(module)
    try:
        observed = moto.observe(wanted)
        account_id = observed["account_id"]
        key = observed["kms_key"]
        role_policy = render_policy(account_id, key["arn"]) if key else None
        steps = base.plan(wanted, observed, params["trust_policy"], role_policy)
        if not module.check_mode:
            for step in steps:
                moto.carry_out(wanted, step, params["public_key"], params["trust_policy"], render_policy, account_id)
    except (base.BaseResourcesError, iam_policies.PolicyError) as exc:
        module.fail_json(msg=str(exc))
    except (BotoCoreError, ClientError) as exc:
        module.fail_json(msg="sandbox base resources at %s: %s" % (params["endpoint_url"], exc))

    ids = moto.ids
    changes = base.summary(steps)
    extra = {"diff": {"prepared": "".join(line + "\n" for line in changes)}} if module._diff and changes else {}
    module.exit_json(
        changed=bool(steps), changes=changes, account_id=account_id, vpc_id=ids.get("vpc"),
        private_subnet_ids={s["az"]: ids["subnets"].get(s["az"]) for s in wanted["subnets"]},
        security_group_id=ids.get("security_group"), kms_key_arn=ids.get("kms_key"), topic_arn=ids["topic"],
        instance_profile=wanted["instance_profile"]["name"], **extra)


def _policy_values(used, params, account_id, key_arn):
    values = dict(params["node_policy_values"], account_id=account_id, backup_kms_key_arn=key_arn)
    return {k: str(values[k]) for k in used if k in values}


if __name__ == "__main__":
    main()
