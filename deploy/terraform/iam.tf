# What the drill task may do is generated from the plan, not written here: drill_policy.tf holds
# `data.aws_iam_policy_document.drctl_drill`, the least privilege `drctl drill run` and
# `drctl drill cleanup` need for the plan (its DR replicas, the drill names drill-<plan>-<db>-*,
# the drctl:drill / drctl:plan / drctl:database tags drctl sets). Regenerate it for your plan:
#   drctl iam policy --plan drplan.yaml --for drill --format terraform --name drctl_drill > drill_policy.tf
# (deploy/README.md). The committed file is the reference plan's (Runbooks/drplan.yaml); a test
# fails when it is stale.

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
  policy = data.aws_iam_policy_document.drctl_drill.json
}

# Encrypted replicas: RDS uses their keys on the caller's behalf (snapshot and restore), through
# grants, and only via RDS in the DR region. The plan does not say which keys: name them here.
data "aws_iam_policy_document" "drill_kms" {
  count = length(var.kms_key_arns) > 0 ? 1 : 0
  statement {
    sid       = "KMSForEncryptedDrillCopies"
    actions   = ["kms:DescribeKey", "kms:CreateGrant"]
    resources = var.kms_key_arns
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["rds.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role_policy" "task_kms" {
  count  = length(var.kms_key_arns) > 0 ? 1 : 0
  name   = "drill-kms"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.drill_kms[0].json
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
