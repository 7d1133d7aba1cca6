"""The backup catalog against a real (moto) S3: listing with pagination,
grouping by set, completeness from names and from manifests."""

import json

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from moto_server import client, moto_server

PORT = 5191
BUCKET = "catalog-test"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as endpoint:
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        yield s3


def put_set(s3, cluster, set_id, shards, manifests=None):
    for index, ranges in enumerate(shards):
        s3.put_object(Bucket=BUCKET, Key=layout.data_key("backups", cluster, set_id, ranges), Body=b"rdb")
        if manifests is not None and index not in manifests:
            continue
        manifest = layout.build_manifest(
            cluster, set_id, ranges,
            source={"node_id": "n" * 40, "address": "10.0.0.1:6379", "role": "replica", "availability_zone": "a"},
            engine={"name": "redis", "version": "7.0.15", "rdb_version": 10},
            objects=[{"key": layout.data_key("backups", cluster, set_id, ranges), "kind": "rdb",
                      "compression": "zstd", "size": 3, "sha256": "0" * 64, "uncompressed_size": 3,
                      "uncompressed_sha256": "0" * 64}],
            keys=1, started_at="x", finished_at="y", program={"name": "t", "version": "0"})
        s3.put_object(Bucket=BUCKET, Key=layout.manifest_key("backups", cluster, set_id, ranges),
                      Body=json.dumps(manifest).encode())


THREE = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)]]


def test_listing_groups_by_set_and_ignores_other_clusters(s3):
    put_set(s3, "alpha", "20261101T020000Z", THREE)
    put_set(s3, "alpha", "20261102T020000Z", THREE, manifests={0, 1})
    put_set(s3, "beta", "20261101T020000Z", THREE)
    s3.put_object(Bucket=BUCKET, Key="backups/alpha/notes.txt", Body=b"x")
    listing = catalog.list_sets(s3, BUCKET, "backups", "alpha")
    assert sorted(listing.sets) == ["20261101T020000Z", "20261102T020000Z"]
    assert listing.stray_keys == ["backups/alpha/notes.txt"]
    newest = listing.newest_first()[0]
    assert newest.set_id == "20261102T020000Z" and len(newest.objects) == 5
    assert catalog.completeness_from_names(listing.sets["20261101T020000Z"]) is True
    assert catalog.completeness_from_names(newest) is False
    assert catalog.newest_complete(s3, BUCKET, "backups", "alpha", listing).set_id == "20261101T020000Z"


def test_overlapping_names_are_decided_by_reading_manifests(s3):
    split = [[(0, 100), (5461, 10922)], [(101, 5460), (10923, 16383)]]
    put_set(s3, "gamma", "20261101T020000Z", split)
    listing = catalog.list_sets(s3, BUCKET, "backups", "gamma")
    backup_set = listing.sets["20261101T020000Z"]
    assert catalog.completeness_from_names(backup_set) is None
    assert catalog.is_complete(s3, BUCKET, "backups", "gamma", backup_set)
    assert len(catalog.read_manifests(s3, BUCKET, "backups", "gamma", backup_set)) == 2


def test_pagination_and_the_bound_on_keys(s3):
    for day in range(1, 29):
        put_set(s3, "delta", "202602%02dT020000Z" % day, THREE)
    listing = catalog.list_sets(s3, BUCKET, "backups", "delta")  # 168 objects, pages of 1000 and less
    assert len(listing.sets) == 28
    s3_small_pages = catalog.list_sets(s3, BUCKET, "backups", "delta", max_keys=1000)
    assert len(s3_small_pages.sets) == 28
    with pytest.raises(catalog.CatalogError, match="more than 100 objects"):
        catalog.list_sets(s3, BUCKET, "backups", "delta", max_keys=100)


def test_a_bad_manifest_is_an_error_not_a_complete_set(s3):
    put_set(s3, "eps", "20261101T020000Z", [[(0, 8191), (8192, 16383)]])  # one shard, two adjacent ranges
    key = layout.manifest_key("backups", "eps", "20261101T020000Z", [(0, 16383)])
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"{not json")
    listing = catalog.list_sets(s3, BUCKET, "backups", "eps")
    with pytest.raises(catalog.CatalogError, match="could not be read"):
        catalog.read_manifests(s3, BUCKET, "backups", "eps", listing.sets["20261101T020000Z"])


def test_a_failed_listing_raises(tmp_path):
    s3 = client("s3", "http://127.0.0.1:%d" % (PORT + 1))  # nothing listens there
    with pytest.raises(catalog.CatalogError, match="failed"):
        catalog.list_sets(s3, BUCKET, "backups", "alpha")
