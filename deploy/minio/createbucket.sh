#!/bin/sh
# The object store's buckets and users: run by compose's one-shot createbucket
# service (the minio/mc image) on every start, so an existing store is brought up to
# date too (README, "Backup and restore").
#
#   media bucket   AWS_STORAGE_BUCKET_NAME: private and versioned, so that an object
#                  deleted or overwritten keeps its earlier version. Made with Object
#                  Lock (possible only when a bucket is made); with MEDIA_LOCK_DAYS
#                  above 0 every version is locked that many days (GOVERNANCE).
#   app user       AWS_ACCESS_KEY_ID: reads, writes and deletes the media bucket's
#                  objects, and nothing else: no version deleted
#                  (s3:DeleteObjectVersion), no bucket setting changed, no other bucket.
#   backup bucket  BACKUP_BUCKET_NAME: private and versioned; a version that is no
#                  longer current (a dump removed by backup_database's retention)
#                  expires after BACKUP_VERSIONS_KEEP_DAYS (0: kept).
#   backup user    BACKUP_AWS_ACCESS_KEY_ID: lists, reads, writes and deletes the backup
#                  bucket's objects, and nothing else, no version either.
set -eu
: "${MINIO_ROOT_USER:?set MINIO_ROOT_USER}" "${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD}"
: "${AWS_STORAGE_BUCKET_NAME:?set AWS_STORAGE_BUCKET_NAME}"
: "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID}" "${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY}"
: "${BACKUP_BUCKET_NAME:?set BACKUP_BUCKET_NAME}"
: "${BACKUP_AWS_ACCESS_KEY_ID:?set BACKUP_AWS_ACCESS_KEY_ID}"
: "${BACKUP_AWS_SECRET_ACCESS_KEY:?set BACKUP_AWS_SECRET_ACCESS_KEY}"
MEDIA_LOCK_DAYS="${MEDIA_LOCK_DAYS:-0}"
BACKUP_VERSIONS_KEEP_DAYS="${BACKUP_VERSIONS_KEEP_DAYS:-7}"
for days in "$MEDIA_LOCK_DAYS" "$BACKUP_VERSIONS_KEEP_DAYS"; do
  case "$days" in
    '' | *[!0-9]*)
      echo "MEDIA_LOCK_DAYS and BACKUP_VERSIONS_KEEP_DAYS are numbers of days." >&2
      exit 2 ;;
  esac
done
if [ "$AWS_STORAGE_BUCKET_NAME" = "$BACKUP_BUCKET_NAME" ]; then
  echo "BACKUP_BUCKET_NAME must be another bucket than the media bucket." >&2
  exit 2
fi

media="store/$AWS_STORAGE_BUCKET_NAME"
backups="store/$BACKUP_BUCKET_NAME"
policies="$(mktemp -d)"
trap 'rm -rf "$policies"' EXIT

# bucket_policy FILE BUCKET OBJECT_ACTIONS: those actions on the bucket's objects,
# listing it, and an explicit refusal of what would destroy versions or loosen the
# bucket's settings, whatever other policy the user may hold.
bucket_policy() {
  cat > "$1" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$2"]
    },
    {
      "Effect": "Allow",
      "Action": [$3],
      "Resource": ["arn:aws:s3:::$2/*"]
    },
    {
      "Effect": "Deny",
      "Action": [
        "s3:DeleteObjectVersion", "s3:DeleteBucket", "s3:PutBucketVersioning",
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
        "s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention"
      ],
      "Resource": ["arn:aws:s3:::$2", "arn:aws:s3:::$2/*"]
    }
  ]
}
JSON
}

# user_with_policy USER SECRET POLICY FILE: the user, holding that policy alone.
user_with_policy() {
  mc admin user add store "$1" "$2"
  mc admin policy create store "$3" "$4"
  # Users made before this script held the built-in readwrite (every bucket).
  mc admin policy detach store readwrite --user "$1" >/dev/null 2>&1 || true
  mc admin policy attach store "$3" --user "$1" || echo "policy $3 already attached"
}

mc alias set store http://objectstore:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"

# The media bucket.
mc mb --ignore-existing --with-lock "$media"
mc anonymous set none "$media"
mc version enable "$media"
if [ "$MEDIA_LOCK_DAYS" -gt 0 ]; then
  mc retention set --default GOVERNANCE "${MEDIA_LOCK_DAYS}d" "$media" ||
    echo "$media was made without Object Lock: its versions are kept, not locked." >&2
else
  mc retention clear --default "$media" >/dev/null 2>&1 || true
fi
# s3:PutObjectRetention: a new version takes the bucket's default retention (it can
# lengthen a lock, never shorten one: that needs s3:BypassGovernanceRetention).
bucket_policy "$policies/media.json" "$AWS_STORAGE_BUCKET_NAME" \
  '"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"'
user_with_policy "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" ndas-media "$policies/media.json"

# The backup bucket.
mc mb --ignore-existing --with-versioning "$backups"
mc anonymous set none "$backups"
mc version enable "$backups"
mc ilm rule rm --all --force "$backups" >/dev/null 2>&1 || true
if [ "$BACKUP_VERSIONS_KEEP_DAYS" -gt 0 ]; then
  mc ilm rule add --noncurrent-expire-days "$BACKUP_VERSIONS_KEEP_DAYS" "$backups"
fi
bucket_policy "$policies/backups.json" "$BACKUP_BUCKET_NAME" \
  '"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"'
user_with_policy "$BACKUP_AWS_ACCESS_KEY_ID" "$BACKUP_AWS_SECRET_ACCESS_KEY" ndas-backups "$policies/backups.json"
echo "Buckets $AWS_STORAGE_BUCKET_NAME (versioned) and $BACKUP_BUCKET_NAME (versioned) and their users are ready."
