output "task_role_arn" {
  description = "The drill's least-privilege role (also usable for IRSA on EKS with a web-identity trust)."
  value       = aws_iam_role.task.arn
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.drill.arn
}

output "schedule_arn" {
  value = aws_scheduler_schedule.drill.arn
}
