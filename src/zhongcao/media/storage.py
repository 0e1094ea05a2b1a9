"""Where media bytes live: a local folder (embedded default) or S3-compatible object storage.

Both stores are written only through :meth:`MediaStorage.put` with keys the service makes (a random
upload folder and a content hash), so a key is never rewritten and every object may be cached forever.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from zhongcao.config import Settings

# Keys are made by the service; anything else is refused before it reaches a filesystem or a bucket.
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:/[a-z0-9][a-z0-9._-]*)+$")
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def valid_key(key: str) -> bool:
    return len(key) <= 255 and KEY_PATTERN.fullmatch(key) is not None and ".." not in key


class MediaStorage(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def local_path(self, key: str) -> Path | None:
        """The file to serve for ``key`` when this store is a local folder, else None."""
        ...

    def redirect(self, key: str, content_type: str) -> tuple[str, str] | None:
        """Where a browser fetches ``key`` when this server does not serve it itself, and how long
        that answer may be cached (Cache-Control); None for a local folder."""
        ...


class LocalStorage:
    """A folder: ``<root>/<key>``. Writes go to a temporary file in the same folder, then are renamed
    into place, so a reader never sees half an object."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError(f"not a media key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Remove the upload's folder once empty (an upload's objects share one folder).
        with contextlib.suppress(OSError):
            path.parent.rmdir()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def redirect(self, key: str, content_type: str) -> tuple[str, str] | None:
        return None


class S3Storage:
    """An S3-compatible bucket through boto3 (AWS, MinIO, Ceph, R2...). Browsers fetch objects from a
    public base URL (a CDN in front of the bucket) when one is set, else through presigned URLs."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        public_base_url: str | None = None,
        presign_seconds: int = 3600,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.presign_seconds = presign_seconds
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if not valid_key(key):
            raise ValueError(f"not a media key: {key!r}")
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=IMMUTABLE_CACHE,
            ContentDisposition="inline",
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def local_path(self, key: str) -> Path | None:
        return None

    def redirect(self, key: str, content_type: str) -> tuple[str, str] | None:
        if self.public_base_url:
            return f"{self.public_base_url}/{key}", IMMUTABLE_CACHE
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type},
            ExpiresIn=self.presign_seconds,
        )
        # A presigned URL expires: the redirect to it may be cached for half its life at most.
        return url, f"private, max-age={self.presign_seconds // 2}"


def storage_from_settings(settings: Settings) -> MediaStorage:
    if settings.media_backend == "s3":
        if not settings.media_s3_bucket:
            raise ValueError("ZHONGCAO_MEDIA_BACKEND=s3 needs ZHONGCAO_MEDIA_S3_BUCKET")
        return S3Storage(
            settings.media_s3_bucket,
            endpoint_url=settings.media_s3_endpoint_url,
            region=settings.media_s3_region,
            public_base_url=settings.media_public_base_url,
            presign_seconds=settings.media_presign_seconds,
        )
    return LocalStorage(settings.media_dir)


def storage_check(settings: Settings) -> tuple[bool, str]:
    """Whether the configured store can be written, in words for ``zhongcao check``."""
    try:
        storage = storage_from_settings(settings)
        if isinstance(storage, S3Storage):
            storage.client.head_bucket(Bucket=storage.bucket)
            return True, f"S3 bucket {storage.bucket} reachable"
        if isinstance(storage, LocalStorage):
            storage.root.mkdir(parents=True, exist_ok=True)
            probe = storage.root / ".write-check"
            probe.write_bytes(b"")
            probe.unlink()
            return True, f"folder {storage.root} writable"
    except Exception as exc:  # report any client or filesystem error in plain words
        return False, f"cannot use the media store: {type(exc).__name__}: {exc}".splitlines()[0]
    return True, storage.name
