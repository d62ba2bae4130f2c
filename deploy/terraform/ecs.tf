resource "aws_ecs_cluster" "drctl" {
  count = var.cluster_arn == null ? 1 : 0
  name  = "drctl"
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  cluster_arn = var.cluster_arn != null ? var.cluster_arn : aws_ecs_cluster.drctl[0].arn
}

resource "aws_cloudwatch_log_group" "drill" {
  name              = "/drctl/drill/${var.plan_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "drill" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  # drctl writes only to /tmp (and $HOME/.local/state without a state URL): a scratch volume.
  volume {
    name = "scratch"
  }
  container_definitions = jsonencode([{
    name                   = "drctl"
    image                  = var.image
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    command                = ["drill", "run", "--plan", "/etc/drctl/drplan.yaml", "--yes", "--output", "json"]
    environment = [
      { name = "AWS_REGION", value = var.region },
      { name = "HOME", value = "/tmp" },
    ]
    # Every URL the drill reads comes from Secrets Manager: the state store's, and the plan's
    # drills.validation.url_env / primary_url_env / checks' *_url_env as keys of one JSON secret
    # (`drctl drill schedule --print ecs-task` lists them for your plan).
    secrets = concat(
      [{ name = "DRCTL_STATE_URL", valueFrom = var.state_url_secret_arn }],
      [for name in var.drill_url_env_names : { name = name, valueFrom = "${var.drill_url_secret_arn}:${name}::" }],
    )
    mountPoints = [{ sourceVolume = "scratch", containerPath = "/tmp", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.drill.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "drill"
      }
    }
  }])
}
