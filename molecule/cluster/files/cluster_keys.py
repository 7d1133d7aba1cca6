#!/usr/bin/python3
"""Write or check the test keys through a cluster-aware client (runs ON a node).

Usage: cluster_keys.py write|check COUNT SEED_HOST
The user's name and password come from the environment
(CLUSTER_KEYS_USER, REDISCLI_AUTH), never from the command line. Prints one
JSON object.
"""

import json
import os
import sys

from redis.cluster import RedisCluster


def main():
    mode, count, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    client = RedisCluster(host=seed, port=6379, username=os.environ["CLUSTER_KEYS_USER"],
                          password=os.environ["REDISCLI_AUTH"], socket_timeout=10)
    keys = ["app:key:%d" % i for i in range(count)]
    if mode == "write":
        for start in range(0, count, 200):
            pipe = client.pipeline()
            for key in keys[start:start + 200]:
                pipe.set(key, key[::-1])
            pipe.execute()
        print(json.dumps({"written": count}))
        return
    values = []
    for start in range(0, count, 200):
        pipe = client.pipeline()
        for key in keys[start:start + 200]:
            pipe.get(key)
        values += pipe.execute()
    wrong = [k for k, v in zip(keys, values) if v != k[::-1].encode()]
    print(json.dumps({"checked": count, "intact": count - len(wrong), "wrong": wrong[:5]}))


if __name__ == "__main__":
    main()
