#!/usr/bin/env python3
"""The cluster's alarms against the sandbox CloudWatch (a private moto server
on 127.0.0.1), two ways in the same run, through ansible-playbook:

  - reference: one amazon.aws.cloudwatch_metric_alarm task call per alarm,
    as a loop (what the issue names, and what the role did before);
  - module: redisops.ec2_cluster.cloudwatch_alarms, one listing and one put
    per alarm that is missing or differs (what the role does now).

Each way puts the full alarm set of an N-node cluster (its own cluster name)
on an empty account, then runs again with nothing to change. Prints the wall
time and the changed count of every run.

Run from the repo root: .venv/bin/python bench/bench_alarms.py [--nodes 6] [--port 5160]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "collections"), str(ROOT / "tests" / "integration")]

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw  # noqa: E402
from moto_server import REGION, SAFE_ENV, client, moto_server  # noqa: E402

NAMESPACE = "Redisops/Bench"
PLAYBOOK = """
- name: Put the alarms
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws: &aws
      endpoint_url: "{{ endpoint }}"
      access_key: testing
      secret_key: testing
      region: "{{ region }}"
    redisops.ec2_cluster.cloudwatch_alarms: *aws
  tasks:
    - name: One cloudwatch_metric_alarm call per alarm
      amazon.aws.cloudwatch_metric_alarm: "{{ item }}"
      loop: "{{ alarms }}"
      loop_control:
        label: "{{ item.name }}"
      when: way == 'reference'

    - name: One cloudwatch_alarms call for the set
      redisops.ec2_cluster.cloudwatch_alarms:
        cluster: "{{ cluster }}"
        namespace: "{{ namespace }}"
        alarms: "{{ alarms }}"
      when: way == 'module'
"""


def nodes(count):
    return [{"instance_id": "i-%017x" % (0xb000 + n), "availability_zone": REGION + "abc"[n % 3],
             "address": "10.90.%d.%d" % (n % 3 + 1, 11 + n // 3)} for n in range(count)]


def run(workdir, env, way, cluster, alarms, endpoint):
    extra = workdir / ("%s.json" % way)
    extra.write_text(json.dumps({"way": way, "cluster": cluster, "namespace": NAMESPACE, "alarms": alarms,
                                 "endpoint": endpoint, "region": REGION}))
    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,",
                             str(workdir / "play.yml"), "-e", "@%s" % extra],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.monotonic() - started
    if result.returncode:
        raise SystemExit("%s failed:\n%s" % (way, result.stdout[-3000:]))
    changed = int(re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", result.stdout).group(1))
    return seconds, changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--port", type=int, default=5160)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-alarms-"))
    (workdir / "play.yml").write_text(PLAYBOOK)
    env = dict(os.environ, **SAFE_ENV, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    rows = []
    with moto_server(args.port, workdir) as endpoint:
        topic = client("sns", endpoint).create_topic(Name="bench-alarms")["TopicArn"]
        for way in ("reference", "module"):
            cluster = "bench-%s" % way
            alarms = cw.desired_alarms(cluster, NAMESPACE, nodes(args.nodes), topic)
            for label in ("first run", "second run"):
                seconds, changed = run(workdir, env, way, cluster, alarms, endpoint)
                rows.append((way, label, len(alarms), seconds, changed))
        listed = client("cloudwatch", endpoint).describe_alarms(MaxRecords=100)
        assert listed["MetricAlarms"], "no alarm was put"
    print("%-10s %-11s %7s %9s %8s" % ("way", "run", "alarms", "seconds", "changed"))
    for way, label, count, seconds, changed in rows:
        print("%-10s %-11s %7d %9.1f %8d" % (way, label, count, seconds, changed))


if __name__ == "__main__":
    main()
