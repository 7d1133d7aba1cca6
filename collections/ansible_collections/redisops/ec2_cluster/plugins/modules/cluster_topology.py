#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cluster_topology
short_description: Create and reshape a Redis (or Valkey) Cluster across availability zones
version_added: "0.1.0"
description:
  - Reads the actual state from every listed node (and every other node the cluster knows about) with
    C(CLUSTER MYID), C(CLUSTER NODES), C(CLUSTER INFO), C(INFO replication), C(INFO server) and C(DBSIZE).
  - Plans the ordered actions (meet, add slots, replicate, migrate slots, forget, failover, reset) with the pure
    planner in C(module_utils/cluster_planner.py), then executes them one by one with bounded waits.
  - Creates a cluster on empty nodes, scales out (new masters get slots by rebalancing with the fewest moves, new
    replicas attach where placement needs them), scales in (nodes flagged O(nodes[].leaving) are drained first, then
    forgotten on every node and reset), replaces lost nodes (a failed node listed in O(forget_nodes) is forgotten
    everywhere, the new node takes its role) and moves mastership between AZs with C(CLUSTER FAILOVER) (planned, no
    data loss) as O(restore_placement) says.
  - "Placement: masters are spread evenly over availability zones, no replica sits in its master's AZ when another
    AZ has a node for it, replicas are spread evenly, and every shard keeps members in 2 AZs. With 3 AZs and 6
    nodes, losing any one AZ leaves every slot served and writable."
  - "AZ safety (the rule of C(module_utils/az_safety.py)): losing one AZ must leave every slot a copy and the
    masters outside it a failover majority. With 3 or more AZs the plan keeps both whenever the nodes per AZ allow
    it. With 2 AZs only the copies can be kept (one AZ always holds at least half of the masters, so losing it
    stops automatic failover). Every risk that remains after the run is returned in RV(az_loss_risks_after) and
    warned about, with the reason in RV(az_loss_notes)."
  - A failed node is never forgotten unless O(forget_nodes) lists it (or it is leaving), so an instance that is
    only stopped keeps its place.
  - "Refused before anything changes: scaling in below 3 * (O(replicas_per_master) + 1) nodes, removing every node
    of an AZ while other AZs keep nodes, forgetting a node that is not failed."
  - On a cluster that already matches, the plan is empty and the module reports no change.
  - Usually runs on one cluster node (delegated); needs redis-py 4.3 or later there.
author:
  - redisops maintainers
options:
  nodes:
    description:
      - Every node the cluster should consist of, plus (flagged O(nodes[].leaving)) the nodes to remove. Live
        cluster nodes in neither are left alone unless O(remove_unlisted_nodes=true).
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Private IP address the node announces (CLUSTER MEET needs an IP address).
        type: str
        required: true
      port:
        description: Client port; the cluster bus is this port plus 10000.
        type: int
        default: 6379
      availability_zone:
        description: Availability zone of the node, for example V(us-west-2a).
        type: str
        required: true
      role:
        description:
          - V(auto) lets the planner choose. V(master) or V(replica) pins the role for new nodes; an existing replica
            pinned as master is promoted with C(CLUSTER FAILOVER) inside its shard.
        type: str
        choices: [auto, master, replica]
        default: auto
      leaving:
        description:
          - Scale in this node. Its slots are drained to the other masters, then it is forgotten on every node and
            reset (C(FLUSHALL), C(CLUSTER RESET HARD)). Its AZ counts for the scale-in rules; a node already out of
            the cluster is left as it is.
        type: bool
        default: false
        version_added: "0.2.0"
  replicas_per_master:
    description: Replicas per master. The number of masters is the node count divided by (this + 1).
    type: int
    default: 1
  force_create_over_data:
    description:
      - Wipe (C(FLUSHALL) and C(CLUSTER RESET HARD)) listed nodes that hold keys or belong to another cluster, then
        use them. Without it such nodes are refused before anything changes.
    type: bool
    default: false
  restore_placement:
    description:
      - When to move mastership with C(CLUSTER FAILOVER) on the right replica (planned, no data loss).
      - V(auto) fails over only when, in the layout the plan would otherwise leave, losing one AZ would cost the
        failover majority, only as many masters as needed, and only if failovers can remove that risk (they cannot
        with 2 AZs). Each failover's reason names the AZ.
      - V(always) also spreads the masters evenly over the AZs and hands each shard to a member alone in its AZ.
      - V(never) leaves the masters where they are (the risks are still returned and warned about).
    type: str
    choices: [auto, always, never]
    default: auto
    version_added: "0.2.0"
  remove_unlisted_nodes:
    description:
      - Drain and remove live cluster nodes that are in no list (neither O(nodes) nor leaving). When false, such
        nodes, their slots and their replicas are left alone. Scale in with O(nodes[].leaving) instead.
      - Failed nodes are never removed by this option; see O(forget_nodes).
    type: bool
    default: false
  forget_nodes:
    description:
      - Failed cluster nodes that are gone for good (their instance is terminated or absent) and may be forgotten
        on every node, by address C(ip:port) or bare IP. No other failed node is forgotten.
      - Naming a node that is not failed (it answers, or is in O(nodes)) is refused before anything changes.
    type: list
    elements: str
    default: []
    version_added: "0.2.0"
  wait_timeout:
    description: Upper bound in seconds for each wait (cluster convergence, replication link, failover, one slot).
    type: int
    default: 120
  migrate_batch_keys:
    description: Keys moved per C(MIGRATE) call while moving a slot.
    type: int
    default: 100
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
notes:
  - O(login_user) and O(login_password) are also passed to C(MIGRATE ... AUTH2) when slots move.
  - Check mode returns the plan and the predicted topology without changing anything.
  - Diff mode shows the topology before and after, one line per node.
  - Key counts in a check-mode RV(topology_after) are the current counts.
attributes:
  check_mode:
    description: >-
      Plans and predicts the topology without changing any node. When no listed node answers (new instances whose
      servers only a real run starts), reports one C(form) action and changed instead of failing.
    support: full
  diff_mode:
    description: Returns the topology before and after, one line per node.
    support: full
"""

EXAMPLES = r"""
- name: Create or reconcile the cluster from the inventory
  redisops.ec2_cluster.cluster_topology:
    nodes: "{{ hostvars | redisops.ec2_cluster.topology_nodes(groups['redis_cluster']) }}"
    replicas_per_master: 1
    login_user: ops
    login_password: "{{ redis_ops_password }}"
  delegate_to: "{{ groups['redis_cluster'] | first }}"
  run_once: true

- name: Six nodes over three AZs with TLS
  redisops.ec2_cluster.cluster_topology:
    nodes:
      - {host: 10.0.1.10, availability_zone: us-west-2a}
      - {host: 10.0.2.10, availability_zone: us-west-2b}
      - {host: 10.0.3.10, availability_zone: us-west-2c}
      - {host: 10.0.1.11, availability_zone: us-west-2a}
      - {host: 10.0.2.11, availability_zone: us-west-2b}
      - {host: 10.0.3.11, availability_zone: us-west-2c}
    login_password: "{{ redis_password }}"
    tls: true
    tls_ca_cert: /etc/redis-node/tls/ca.crt
    restore_placement: always

# Connection options as in the first example are left out below.
- name: Scale in - drain and remove the hosts of group redis_member_leaving
  redisops.ec2_cluster.cluster_topology:
    nodes: >-
      {{ (hostvars | redisops.ec2_cluster.topology_nodes(groups['redis_cluster'] | difference(groups['redis_member_leaving'])))
         + (hostvars | redisops.ec2_cluster.topology_nodes(groups['redis_member_leaving']) | map('combine', {'leaving': true})) }}
  delegate_to: "{{ groups['redis_cluster'] | difference(groups['redis_member_leaving']) | first }}"
  run_once: true

- name: Replace a lost node - forget the failed node whose instance is terminated
  redisops.ec2_cluster.cluster_topology:
    nodes: "{{ hostvars | redisops.ec2_cluster.topology_nodes(groups['redis_cluster']) }}"
    forget_nodes: [10.0.1.10]
    restore_placement: always
  delegate_to: "{{ groups['redis_cluster'] | first }}"
  run_once: true
  register: replaced

- name: Say what losing one AZ would still cost
  ansible.builtin.debug:
    msg: "{{ replaced.az_loss_risks_after + replaced.az_loss_notes }}"
"""

RETURN = r"""
changed:
  description: Whether the plan had actions (in check mode, whether it would have).
  returned: always
  type: bool
actions:
  description: The plan, in order, each with whether it ran.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: One of reset, forget, set_config_epoch, add_slots, meet, wait, replicate, migrate_slots, failover.
      type: str
    node:
      description: Address (ip:port) of the node the action is about.
      type: str
    args:
      description: Action arguments, for example C(master), C(to), C(ranges), C(node_id), C(seed).
      type: dict
    reason:
      description: Why the planner chose the action.
      type: str
    done:
      description: True once executed (always false in check mode).
      type: bool
  sample:
    - {kind: meet, node: "10.0.1.11:6379", args: {seed: "10.0.1.10:6379"}, reason: node is not part of the cluster yet,
       done: true}
topology_before:
  description: Every node before the run.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: ip:port.
      type: str
    node_id:
      description: Cluster node ID.
      type: str
    availability_zone:
      description: AZ from O(nodes) (null for unlisted nodes).
      type: str
    role:
      description: master, replica, failed master, failed replica or standalone (not in the cluster).
      type: str
    master:
      description: Address of the master of a replica, else null.
      type: str
    slots:
      description: Slot ranges served, as C(first-last).
      type: list
      elements: str
    keys:
      description: DBSIZE of the node.
      type: int
topology_after:
  description: Every node after the run (read again from the nodes), or the prediction in check mode. Same fields as
    RV(topology_before).
  returned: always
  type: list
  elements: dict
az_loss_risks_before:
  description:
    - What losing each AZ would cost before the run (C(module_utils/az_safety.py)). Empty when any one AZ can be
      lost.
  returned: when the nodes could be read (also when the plan is refused)
  type: list
  elements: str
  sample:
    - "losing us-west-2a: 2 of 3 masters go and the 1 left cannot elect replicas (a failover needs 2 votes)"
    - "losing us-west-2a: the 5461 slots of 10.0.1.10:6379 have no copy outside it"
  version_added: "0.2.0"
az_loss_risks_after:
  description: The same after the run (in check mode, for the predicted topology). Each one is also a warning.
  returned: success
  type: list
  elements: str
  version_added: "0.2.0"
az_loss_notes:
  description: Why the risks in RV(az_loss_risks_after) remain (for example 2 AZs, too few nodes per AZ,
    O(restore_placement=never)); empty when there is none.
  returned: success
  type: list
  elements: str
  version_added: "0.2.0"
kept_nodes:
  description: Cluster nodes outside O(nodes) that the run leaves in place, with why (a failed node not in
    O(forget_nodes), a live node in no list).
  returned: when the nodes could be read (also when the plan is refused)
  type: list
  elements: str
  sample: ["10.0.2.11:6379 (failed, not in forget_nodes)"]
  version_added: "0.2.0"
diff:
  description: Topology before and after, one line per node.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Lines of the form C(address az role [of master] [slots ranges]).
      type: str
    after:
      description: Same, after the run.
      type: str
"""

import time
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    consolidate,
    expand_ranges,
    parse_cluster_nodes,
    cluster_signature,
    topology,
    topology_text,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_planner import (
    RESTORE_PLACEMENT,
    DesiredNode,
    PlanError,
    Spec,
    TooFewNodes,
    az_risks,
    kept_nodes,
    placement_problems,
    plan,
    simulate,
    validate_spec,
    why_risks_remain,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info

MIGRATE_TIMEOUT_MS = 10000
SLOTS_PER_ROUND_TRIP = 128
FAILOVER_RETRY_SECONDS = 10


def argument_spec():
    spec = dict(
        nodes=dict(type="list", elements="dict", required=True, options=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", default=6379),
            availability_zone=dict(type="str", required=True),
            role=dict(type="str", choices=["auto", "master", "replica"], default="auto"),
            leaving=dict(type="bool", default=False),
        )),
        replicas_per_master=dict(type="int", default=1),
        force_create_over_data=dict(type="bool", default=False),
        restore_placement=dict(type="str", choices=list(RESTORE_PLACEMENT), default="auto"),
        remove_unlisted_nodes=dict(type="bool", default=False),
        forget_nodes=dict(type="list", elements="str", default=[]),
        wait_timeout=dict(type="int", default=120),
        migrate_batch_keys=dict(type="int", default=100),
    )
    spec.update(redis_connection.connection_argument_spec(single_node=False))
    return spec


def spec_from(params) -> Spec:
    return Spec(
        nodes=tuple(DesiredNode(n["host"], n["port"], n["availability_zone"], n["role"], n["leaving"])
                    for n in params["nodes"]),
        replicas_per_master=params["replicas_per_master"],
        force_create_over_data=params["force_create_over_data"],
        restore_placement=params["restore_placement"],
        remove_unlisted_nodes=params["remove_unlisted_nodes"],
        forget_nodes=tuple(params["forget_nodes"]),
    )


def settings_from(params) -> redis_connection.ConnectionSettings:
    return redis_connection.settings_from_params(params, command_timeout=max(30.0, MIGRATE_TIMEOUT_MS / 1000.0 * 2))


class Nodes:
    """Lazily opened connections, one per address."""

    def __init__(self, settings):
        self.settings = settings
        self._clients = {}

    def __getitem__(self, address):
        if address not in self._clients:
            self._clients[address] = redis_nodes.NodeClient(address, self.settings)
        return self._clients[address]

    def close(self):
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def read_state(nodes: Nodes, spec: Spec):
    """Observe every listed node and every node their views mention."""
    observations = {}
    for node in spec.nodes:
        observations[node.address] = redis_nodes.observe(nodes[node.address])
    mentioned = sorted({e.address for o in list(observations.values()) for e in o.view
                        if e.address and not e.in_handshake and e.address not in observations})
    for address in mentioned:
        observations[address] = redis_nodes.observe(nodes[address])
    unreachable = {a: o.error for a, o in observations.items() if not o.reachable}
    return consolidate(list(observations.values()), spec.zones), unreachable


# ---------------------------------------------------------------- executors


def node_id(nodes, address):
    return nodes[address].text("CLUSTER", "MYID").strip()


def view(nodes, address):
    return parse_cluster_nodes(nodes[address].text("CLUSTER", "NODES"))


def replication(nodes, address):
    return parse_info(nodes[address].text("INFO", "replication"))


def do_reset(nodes, action, ctx):
    client = nodes[action.node]
    flush = action.args.get("flush")
    # CLUSTER RESET refuses a master that holds keys.
    if flush and replication(nodes, action.node).get("role") == "master":
        client.ok("FLUSHALL")
    client.ok("CLUSTER", "RESET", "HARD" if action.args.get("hard") else "SOFT")
    # A replica's dataset is emptied by the reset in memory only, not in its
    # AOF, so it would come back at the next restart. Now an empty master,
    # the node logs a FLUSHALL that makes the emptiness durable.
    if flush:
        client.ok("FLUSHALL")


def do_forget(nodes, action, ctx):
    for address in action.args["on"]:
        try:
            nodes[address].ok("CLUSTER", "FORGET", action.args["node_id"])
        except redis_nodes.RedisError as exc:
            if "unknown node" not in str(exc).lower():
                raise


def do_set_config_epoch(nodes, action, ctx):
    nodes[action.node].ok("CLUSTER", "SET-CONFIG-EPOCH", action.args["epoch"])


def do_add_slots(nodes, action, ctx):
    client = nodes[action.node]
    bounds = [b for r in action.args["ranges"] for b in r.split("-")]
    try:
        client.ok("CLUSTER", "ADDSLOTSRANGE", *bounds)
    except redis_nodes.RedisError as exc:
        if "unknown subcommand" not in str(exc).lower():
            raise
        client.ok("CLUSTER", "ADDSLOTS", *expand_ranges(action.args["ranges"]))


def do_meet(nodes, action, ctx):
    host, port = redis_nodes.split_address(action.args["seed"])
    nodes[action.node].ok("CLUSTER", "MEET", host, port)


def do_wait(nodes, action, ctx):
    addresses = action.args["nodes"]
    ids = {node_id(nodes, a) for a in addresses}

    def converged():
        for address in addresses:
            known = {e.node_id for e in view(nodes, address) if not e.in_handshake}
            if not ids <= known:
                return False
            if parse_info(nodes[address].text("CLUSTER", "INFO")).get("cluster_state") != "ok":
                return False
        return True

    redis_nodes.wait_until(converged, ctx["wait_timeout"], what="%d nodes to know each other and report "
                           "cluster_state:ok" % len(addresses))


def wait_for_agreement(nodes, addresses, timeout):
    """Gossip spreads roles and slot owners after the last action; report
    (and let the next run plan) only once every node tells the same story."""
    def agreed():
        owners = {cluster_signature(view(nodes, address)) for address in addresses}
        states = {parse_info(nodes[address].text("CLUSTER", "INFO")).get("cluster_state") for address in addresses}
        return len(owners) == 1 and states == {"ok"}

    redis_nodes.wait_until(agreed, timeout, what="all %d nodes to agree on roles and slot owners and report "
                           "cluster_state:ok" % len(addresses))


def do_replicate(nodes, action, ctx):
    master = action.args["master"]
    master_id = node_id(nodes, master)
    redis_nodes.wait_until(
        lambda: any(e.node_id == master_id and e.is_master and not e.in_handshake for e in view(nodes, action.node)),
        ctx["wait_timeout"], what="%s to learn about master %s" % (action.node, master))
    nodes[action.node].ok("CLUSTER", "REPLICATE", master_id)
    redis_nodes.wait_until(
        lambda: replication(nodes, action.node).get("master_link_status") == "up",
        ctx["wait_timeout"], what="replication link %s -> %s to come up" % (action.node, master))


def _migrate_keys(src, dst_host, dst_port, keys, ctx):
    args = ["MIGRATE", dst_host, dst_port, "", 0, MIGRATE_TIMEOUT_MS, "REPLACE"]
    if ctx["password"] is not None:
        args += ["AUTH2", ctx["username"], ctx["password"]] if ctx["username"] else ["AUTH", ctx["password"]]
    src.ok(*(args + ["KEYS"] + list(keys)))


def _drain_slot(src, dst_host, dst_port, slot, count, ctx):
    """MIGRATE the keys of one open slot in batches, bounded in rounds and time."""
    batch = ctx["migrate_batch_keys"]
    # Keys written meanwhile go to the destination (ASK), so the keys present
    # now bound the rounds; the deadline bounds the time.
    rounds = count // batch + 2
    deadline = time.monotonic() + ctx["wait_timeout"]
    for _round in range(rounds):
        keys = src.call("CLUSTER", "GETKEYSINSLOT", slot, batch)
        if not keys:
            return
        _migrate_keys(src, dst_host, dst_port, keys, ctx)
        if time.monotonic() > deadline:
            raise TimeoutError("slot %d still had keys after %ss" % (slot, ctx["wait_timeout"]))
    raise TimeoutError("slot %d still had keys after %d MIGRATE rounds" % (slot, rounds))


def _move_slots(nodes, action, slots, ids, others, ctx):
    """Move a chunk of slots: open all, move their keys, assign them (redis-cli's order)."""
    src, dst = nodes[action.node], nodes[action.args["to"]]
    dst_host, dst_port = redis_nodes.split_address(action.args["to"])
    dst.batch([("CLUSTER", "SETSLOT", s, "IMPORTING", ids["src"]) for s in slots])
    counts = src.batch([("CLUSTER", "SETSLOT", s, "MIGRATING", ids["dst"]) for s in slots]
                       + [("CLUSTER", "COUNTKEYSINSLOT", s) for s in slots])[len(slots):]
    for slot, count in zip(slots, counts):
        if int(count):
            _drain_slot(src, dst_host, dst_port, slot, int(count), ctx)
    assign = [("CLUSTER", "SETSLOT", s, "NODE", ids["dst"]) for s in slots]
    dst.batch(assign)

    # A master that gave away its last slot turns itself into a replica of
    # the receiver (cluster-allow-replica-migration): it knows the owner.
    def became_replica(exc):
        return "only with masters" in str(exc) and replication(nodes, action.node).get("role") != "master"
    src.batch(assign, tolerate=became_replica)
    for address in others:
        # gossip spreads the new owner anyway; the final read checks it
        nodes[address].batch(assign, tolerate=lambda exc: True)


def do_migrate_slots(nodes, action, ctx):
    ids = {"src": node_id(nodes, action.node), "dst": node_id(nodes, action.args["to"])}
    redis_nodes.wait_until(
        lambda: any(e.node_id == ids["dst"] and not e.in_handshake for e in view(nodes, action.node)),
        ctx["wait_timeout"], what="%s to learn about %s" % (action.node, action.args["to"]))
    others = sorted(e.address for e in view(nodes, action.node)
                    if e.is_master and not e.is_failed and e.address
                    and e.node_id not in ids.values())
    slots = expand_ranges(action.args["ranges"])
    for first in range(0, len(slots), SLOTS_PER_ROUND_TRIP):
        _move_slots(nodes, action, slots[first:first + SLOTS_PER_ROUND_TRIP], ids, others, ctx)


def do_failover(nodes, action, ctx):
    old = action.args["master"]
    redis_nodes.wait_until(
        lambda: replication(nodes, action.node).get("master_link_status") == "up",
        ctx["wait_timeout"], what="%s to be in sync with %s" % (action.node, old))

    def taken_over():
        return replication(nodes, action.node).get("role") == "master" and \
            replication(nodes, old).get("role") == "slave"

    # A manual failover that gets no majority in time is abandoned by the
    # server (after 5 s), so ask again, within the overall bound.
    attempts = max(1, int(ctx["wait_timeout"] // FAILOVER_RETRY_SECONDS))
    for attempt in range(attempts):
        if not replication(nodes, action.node).get("role") == "master":
            nodes[action.node].ok("CLUSTER", "FAILOVER")
        try:
            redis_nodes.wait_until(taken_over, FAILOVER_RETRY_SECONDS,
                                   what="%s to take over from %s" % (action.node, old))
            return
        except TimeoutError:
            if attempt == attempts - 1:
                raise


EXECUTORS = {
    "reset": do_reset,
    "forget": do_forget,
    "set_config_epoch": do_set_config_epoch,
    "add_slots": do_add_slots,
    "meet": do_meet,
    "wait": do_wait,
    "replicate": do_replicate,
    "migrate_slots": do_migrate_slots,
    "failover": do_failover,
}


# ---------------------------------------------------------------- module


def not_running_yet(spec, unreachable):
    """No listed node answers: nothing to read yet, as on new instances in a check run."""
    return bool(spec.nodes) and {n.address for n in spec.nodes} <= set(unreachable)


def run(module, nodes):
    params = module.params
    spec = spec_from(params)
    try:
        validate_spec(spec)  # bad input is refused before any connection
    except TooFewNodes:
        pass  # refused by plan() below, with the cluster's nodes it would keep (read only, nothing changes)
    except PlanError as exc:
        module.fail_json(msg=str(exc), changed=False)
    state, unreachable = read_state(nodes, spec)
    if module.check_mode and not_running_yet(spec, unreachable):
        # A check run on new instances: their servers start in the real run.
        module.exit_json(changed=True, msg="no listed node answers yet; a real run forms the cluster",
                         actions=[dict(kind="form", node=",".join(sorted(unreachable)),
                                       reason="no listed node runs yet (check mode on new nodes)")],
                         topology_before=[], topology_after=[], az_loss_risks_before=[], az_loss_risks_after=[],
                         az_loss_notes=[], kept_nodes=[])
    risks_before = [risk.message for risk in az_risks(spec, state)]
    try:
        actions = plan(spec, state, unreachable)
    except PlanError as exc:
        module.fail_json(msg=str(exc), changed=False, topology_before=topology(state),
                         az_loss_risks_before=risks_before, kept_nodes=kept_nodes(spec, state))
    before = topology(state)
    report = [a.as_dict() for a in actions]
    result = dict(changed=bool(actions), actions=report, topology_before=before, az_loss_risks_before=risks_before,
                  kept_nodes=kept_nodes(spec, state))

    if module.check_mode or not actions:
        predicted = simulate(state, actions)
        after_state = predicted
    else:
        ctx = dict(wait_timeout=params["wait_timeout"], migrate_batch_keys=params["migrate_batch_keys"],
                   username=params["login_user"], password=params["login_password"])
        for index, action in enumerate(actions):
            try:
                EXECUTORS[action.kind](nodes, action, ctx)
            except (redis_nodes.RedisError, TimeoutError) as exc:
                module.fail_json(msg="action %d/%d (%s on %s) failed: %s" % (
                    index + 1, len(actions), action.kind, action.node, redis_nodes.describe_error(exc)),
                    exception=traceback.format_exc(), **result)
            report[index]["done"] = True
        try:
            wait_for_agreement(nodes, [n.address for n in spec.members], params["wait_timeout"])
        except (redis_nodes.RedisError, TimeoutError) as exc:
            module.fail_json(msg="the plan ran, but the cluster did not settle: %s" % redis_nodes.describe_error(exc),
                             **result)
        after_state, _unreachable = read_state(nodes, spec)
    result["topology_after"] = topology(after_state)
    result["az_loss_risks_after"] = [risk.message for risk in az_risks(spec, after_state)]
    result["az_loss_notes"] = why_risks_remain(spec, after_state)
    for risk in result["az_loss_risks_after"] + result["az_loss_notes"]:
        module.warn("AZ safety: %s" % risk)
    for problem in placement_problems(spec, after_state):
        module.warn("placement: %s" % problem)
    if module._diff:
        result["diff"] = dict(before=topology_text(before), after=topology_text(result["topology_after"]),
                              before_header="cluster topology", after_header="cluster topology")
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           **redis_connection.CONNECTION_RULES)
    redis_connection.fail_without_redis(module)
    nodes = Nodes(settings_from(module.params))
    try:
        result = run(module, nodes)
    finally:
        nodes.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
