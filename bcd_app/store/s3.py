"""Photo storage in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Supabase Storage) through boto3:
credentials from boto3's usual chain (environment, shared files, instance role)."""

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# S3 deletes at most this many keys per request.
DELETE_BATCH = 1000
MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Storage:
    """Objects under `prefix` in one bucket; a put is whole or absent (S3 has no partial objects)."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None, region: str | None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30),
        )

    def _key(self, key: str) -> str:
        if ".." in key.split("/") or key.startswith("/"):
            raise ValueError("storage key escapes its prefix")
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        """Write one object."""
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        """One object's bytes (FileNotFoundError when there is none)."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                raise FileNotFoundError(key) from None
            raise

    def delete(self, key: str) -> None:
        """Remove one object (S3 answers the same for a missing one)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under a user's or a session's prefix, a thousand per request."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/") + "/")
        )
        batch: list[dict] = []
        for page in pages:
            batch.extend({"Key": item["Key"]} for item in page.get("Contents", []))
            while len(batch) >= DELETE_BATCH:
                self._delete(batch[:DELETE_BATCH])
                batch = batch[DELETE_BATCH:]
        if batch:
            self._delete(batch)

    def _delete(self, objects: list[dict]) -> None:
        self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})

    def list_keys(self) -> Iterator[str]:
        """Every object's key under the prefix."""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]

    def exists(self, key: str) -> bool:
        """Whether an object is there."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                return False
            raise
        return True

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Nothing to sweep: an S3 PUT lands whole or not at all."""
        return 0
