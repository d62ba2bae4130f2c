# EventBridge Scheduler starts one Fargate task per occurrence, in UTC. A failed drill is not
# retried (its teardown already ran; the next occurrence tries again). Overlap is prevented by
# drctl's own plan lock in the shared state store.
resource "aws_scheduler_schedule" "drill" {
  name                         = local.name
  description                  = "drctl drill run for plan ${var.plan_name}"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.cluster_arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.drill.arn_without_revision
      launch_type         = "FARGATE"
      platform_version    = "LATEST"
      task_count          = 1
      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = var.security_group_ids
        assign_public_ip = false
      }
      tags = { "drctl:plan" = var.plan_name }
    }

    retry_policy {
      maximum_retry_attempts       = 0
      maximum_event_age_in_seconds = 3600
    }
  }
}
