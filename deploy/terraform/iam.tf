# The least the drill needs. A drill snapshots the primary (or uses the newest copy), copies the
# snapshot into the DR region, restores an instance from it under a drill name, validates it, and
# deletes what it created. Everything it creates carries the drill tag; nothing else can be deleted.
# Condition keys: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html

data "aws_iam_policy_document" "drill" {
  # Reads. Describe*, GetMetricData and DescribeSecret (metadata only) are not narrowed here:
  # the first two do not support resource-level permissions.
  statement {
    sid       = "Read"
    actions   = ["rds:Describe*", "rds:ListTagsForResource", "cloudwatch:GetMetricData", "secretsmanager:DescribeSecret", "sts:GetCallerIdentity"]
    resources = ["*"]
  }

  # A fresh snapshot of a primary, only as a tagged drill snapshot.
  statement {
    sid     = "SnapshotPrimary"
    actions = ["rds:CreateDBSnapshot"]
    resources = concat(
      [for instance in var.primary_db_instances : "${local.rds_primary}:db:${instance}"],
      ["${local.rds_primary}:snapshot:${var.drill_resource_prefix}*"],
    )
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }

  # Copy any snapshot of the primary region into the DR region, as a tagged drill copy.
  statement {
    sid     = "CopyIntoDR"
    actions = ["rds:CopyDBSnapshot"]
    resources = [
      "${local.rds_primary}:snapshot:*",
      "${local.rds_dr}:snapshot:${var.drill_resource_prefix}*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }

  # Restore a tagged drill instance from a snapshot in the DR region (the newest copy may be one
  # the backup system made, so any snapshot there may be the source).
  statement {
    sid     = "RestoreDrillInstance"
    actions = ["rds:RestoreDBInstanceFromDBSnapshot"]
    resources = [
      "${local.rds_dr}:db:${var.drill_resource_prefix}*",
      "${local.rds_dr}:snapshot:*",
      "${local.rds_dr}:subgrp:*",
      "${local.rds_dr}:og:*",
      "${local.rds_dr}:pg:*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }

  # Tags are written with the create calls above (RDS authorizes them as AddTagsToResource).
  statement {
    sid     = "TagDrillResources"
    actions = ["rds:AddTagsToResource"]
    resources = [
      "${local.rds_primary}:snapshot:${var.drill_resource_prefix}*",
      "${local.rds_dr}:snapshot:${var.drill_resource_prefix}*",
      "${local.rds_dr}:db:${var.drill_resource_prefix}*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }

  # Teardown: only drill-named resources that carry the drill tag.
  statement {
    sid       = "DeleteDrillInstance"
    actions   = ["rds:DeleteDBInstance"]
    resources = ["${local.rds_dr}:db:${var.drill_resource_prefix}*"]
    condition {
      test     = "StringEquals"
      variable = "rds:db-tag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }
  statement {
    sid     = "DeleteDrillSnapshots"
    actions = ["rds:DeleteDBSnapshot"]
    resources = [
      "${local.rds_primary}:snapshot:${var.drill_resource_prefix}*",
      "${local.rds_dr}:snapshot:${var.drill_resource_prefix}*",
    ]
    condition {
      test     = "StringEquals"
      variable = "rds:snapshot-tag/${var.drill_tag_key}"
      values   = ["true"]
    }
  }

  # Replication backlog and checks: list and HEAD the plan's buckets, read their replication setup.
  statement {
    sid       = "ReadPlanBuckets"
    actions   = ["s3:ListBucket", "s3:GetReplicationConfiguration", "s3:GetBucketVersioning"]
    resources = [for bucket in var.bucket_names : "arn:${local.partition}:s3:::${bucket}"]
  }
  statement {
    sid       = "HeadPlanObjects"
    actions   = ["s3:GetObject"]
    resources = [for bucket in var.bucket_names : "arn:${local.partition}:s3:::${bucket}/*"]
  }

  # Encrypted snapshots: RDS uses the keys on the caller's behalf, through grants, and only via RDS.
  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "KMSForEncryptedCopies"
      actions   = ["kms:DescribeKey", "kms:CreateGrant"]
      resources = var.kms_key_arns
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["rds.${var.primary_region}.amazonaws.com", "rds.${var.region}.amazonaws.com"]
      }
      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# The task role: what drctl itself may do.
resource "aws_iam_role" "task" {
  name               = local.name
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

resource "aws_iam_role_policy" "task" {
  name   = "drill"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.drill.json
}

# The execution role: what ECS needs to start the container (image, logs, the state URL secret).
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = ["arn:${local.partition}:ecr:*:${local.account}:repository/*"]
  }
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.drill.arn}:*"]
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = compact([var.state_url_secret_arn, var.drill_url_secret_arn])
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-drill-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The scheduler's role: run this task definition on this cluster, pass the two roles, nothing else.
data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.drill.arn_without_revision}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }
  statement {
    actions   = ["ecs:TagResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-drill-task"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
